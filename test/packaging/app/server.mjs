// The key server of the packed-packages test, run with node from a scratch project where the
// tarballs were installed with npm: createValet + s3 on Swift + toNodeListener, all from the
// installed @valet/server, and pages that load the installed @valet/client in Chromium.
import { createReadStream } from 'node:fs'
import http from 'node:http'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createValet } from '@valet/server'
import { s3 } from '@valet/server/s3'
import { toNodeListener } from '@valet/server/node'

const env = process.env
const valet = createValet({
  storage: s3({
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    bucket: env.S3_BUCKET,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    forcePathStyle: true,
  }),
  secret: env.VALET_SECRET,
  authorize: () => ({ id: 'packed' }),
})
const api = toNodeListener(valet)
const standalone = fileURLToPath(import.meta.resolve('@valet/client/valet-client.js'))
const bundled = env.BUNDLE_DIR
const TYPES = { '.js': 'text/javascript', '.html': 'text/html; charset=utf-8' }
const PAGE = (script) =>
  `<!doctype html><meta charset="utf-8"><title>packed</title><script type="module">${script}</script>`

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body)
}

const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname
  if (path.startsWith('/api/valet/')) return api(req, res)
  if (path === '/valet-client.js') return createReadStream(standalone).pipe(res.writeHead(200, { 'content-type': TYPES['.js'] }))
  if (path === '/standalone.html') {
    return send(res, 200, TYPES['.html'], PAGE(`import { createUploader } from '/valet-client.js'; window.createUploader = createUploader; document.body.dataset.ready = 'true'`))
  }
  if (path === '/bundled.html') return send(res, 200, TYPES['.html'], PAGE(`import '/bundled/page-entry.js'`))
  if (path.startsWith('/bundled/') && bundled) {
    const file = normalize(join(bundled, path.slice('/bundled/'.length)))
    if (!file.startsWith(bundled)) return send(res, 404, 'text/plain', 'no')
    return createReadStream(file)
      .on('error', () => send(res, 404, 'text/plain', 'not found'))
      .pipe(res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }))
  }
  send(res, 404, 'text/plain', 'not found')
})
server.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${server.address().port}`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
