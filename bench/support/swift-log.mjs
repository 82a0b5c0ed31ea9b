// Counts the requests that reach Swift from outside, from its proxy's access log: every variant,
// the key server and any client are seen alike, with nothing put in their path (a counting proxy
// would add a hop and CPU on a 2-core box). Middleware subrequests (s3api → Swift, SLO segments)
// are logged without a client address and are left out: they are the store's cost, not a request.
import fs from 'node:fs'
import { request, signV4 } from '../../scripts/swift/start.mjs'

// client_ip remote_addr date method path protocol status referer user_agent
const LINE = /^proxy-server: (\S+) \S+ \d\d\/\w+\/\d{4}\/\S+ ([A-Z]+) (\S+) \S+ (\d{3}) \S+ (\S+)/

/** Who sent it: the measured client (the AWS SDK, valet's client or axios) or the key server (fetch). */
const origin = (agent) => (/^(aws-sdk-js|axios|valet-client)/.test(decodeURIComponent(agent)) ? 'client' : 'server')

export function swiftLog(swift) {
  const file = swift.logs.proxy
  let markers = 0
  const read = (from) => {
    const size = fs.statSync(file).size
    const fd = fs.openSync(file, 'r')
    try {
      const buf = Buffer.alloc(size - from)
      fs.readSync(fd, buf, 0, buf.length, from)
      return buf.toString('utf8')
    } finally {
      fs.closeSync(fd)
    }
  }
  return {
    /** Where the log ends now: count from here. */
    mark: () => fs.statSync(file).size,
    /**
     * The log arrives over UDP after each request ends: send a request of our own and wait for
     * its line, so every line of the requests before it is in the file.
     */
    async settle(from) {
      const marker = `zz-bench-log-marker-${process.pid}-${markers++}`
      const { url, headers } = signV4({ method: 'HEAD', url: `${swift.endpoint}/${swift.bucket}/${marker}`, accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey, region: swift.region })
      await request('HEAD', url, { headers })
      for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
        if (read(from).includes(marker)) return
        await new Promise((r) => setTimeout(r, 50))
      }
      throw new Error(`Swift's access log did not show ${marker} within 15 s: counts would be short`)
    },
    /** `{ client: { PUT: n, … }, server: { … } }` since `from`, markers left out. */
    count(from) {
      const out = { client: {}, server: {} }
      for (const line of read(from).split('\n')) {
        const m = LINE.exec(line)
        if (!m || m[1] === '-' || m[3].includes('zz-bench-log-marker-')) continue
        const who = out[origin(m[5])]
        who[m[2]] = (who[m[2]] ?? 0) + 1
      }
      return out
    },
  }
}
