// Direct S3 calls the harness makes outside the measured clients: presign the raw PUT, check
// what landed, and clean up so Swift's disk stays small.
import { createHash } from 'node:crypto'
import http from 'node:http'
import { AwsV4Signer } from 'aws4fetch'
import { request, signV4 } from '../../scripts/swift/start.mjs'

const objectUrl = (swift, key) => `${swift.endpoint}/${swift.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`

/** A presigned PutObject URL for `key`, valid for `expires` seconds. */
export function presignPut(swift, key, expires = 3600) {
  return presign(swift, 'PUT', key, expires)
}

/** A presigned GetObject URL for `key` (the download section's raw GET), valid for `expires` seconds. */
export function presignGet(swift, key, expires = 3600) {
  return presign(swift, 'GET', key, expires)
}

async function presign(swift, method, key, expires) {
  const url = new URL(objectUrl(swift, key))
  // aws4fetch builds the canonical query in its constructor and would otherwise sign its own
  // default of 86400 s: the expiry has to be on the URL first.
  url.searchParams.set('X-Amz-Expires', String(expires))
  const signer = new AwsV4Signer({
    method,
    url: url.toString(),
    accessKeyId: swift.accessKeyId,
    secretAccessKey: swift.secretAccessKey,
    service: 's3',
    region: swift.region,
    signQuery: true,
  })
  return (await signer.sign()).url.toString()
}

function send(swift, method, key, onResponse) {
  const { url, headers } = signV4({
    method,
    url: objectUrl(swift, key),
    accessKeyId: swift.accessKeyId,
    secretAccessKey: swift.secretAccessKey,
    region: swift.region,
  })
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, timeout: 600_000 }, (res) => onResponse(res, resolve, reject))
    req.on('timeout', () => req.destroy(new Error(`${method} ${key} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

const drain = (res, resolve) => {
  res.resume()
  res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }))
}

/** `{ status, size }` of the stored object. */
export async function headObject(swift, key) {
  const { status, headers } = await send(swift, 'HEAD', key, drain)
  return { status, size: Number(headers['content-length']) }
}

/** sha256 (hex) of the stored object, streamed: a 2 GiB object never sits in memory. */
export function sha256Object(swift, key) {
  return send(swift, 'GET', key, (res, resolve, reject) => {
    if (res.statusCode !== 200) {
      res.resume()
      return reject(new Error(`GET ${key}: HTTP ${res.statusCode}`))
    }
    const hash = createHash('sha256')
    res.on('data', (chunk) => hash.update(chunk))
    res.on('end', () => resolve(hash.digest('hex')))
    res.on('error', reject)
  })
}

/** Deletes the object; s3api also deletes a multipart object's segments. */
export async function deleteObject(swift, key) {
  const { status } = await send(swift, 'DELETE', key, drain)
  if (status !== 204 && status !== 404) throw new Error(`DELETE ${key}: HTTP ${status}`)
}

function bucketCall(swift, method, query, body = '') {
  const headers = body ? { 'content-md5': createHash('md5').update(body).digest('base64'), 'content-type': 'application/xml' } : {}
  const signed = signV4({ method, url: `${swift.endpoint}/${swift.bucket}?${query}`, headers, body, accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey, region: swift.region })
  return request(method, signed.url, { headers: signed.headers, body: body || undefined, timeoutMs: 600_000 }).then((res) => {
    if (res.status !== 200) throw new Error(`${method} ?${query.slice(0, 60)}: HTTP ${res.status} ${res.body.toString('utf8').slice(0, 300)}`)
    return res.body.toString('utf8')
  })
}

const unxml = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&')
const xmlEscape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Every object under `prefix` as Map(key → size), by ListObjectsV2 pages of 1,000. */
export async function listPrefix(swift, prefix) {
  const out = new Map()
  let token
  do {
    const q = new URLSearchParams({ 'list-type': '2', prefix, 'max-keys': '1000', ...(token ? { 'continuation-token': token } : {}) })
    const xml = await bucketCall(swift, 'GET', q.toString())
    for (const [, body] of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
      out.set(unxml(/<Key>([^<]*)<\/Key>/.exec(body)[1]), Number(/<Size>(\d+)<\/Size>/.exec(body)[1]))
    }
    token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? unxml(/<NextContinuationToken>([^<]*)</.exec(xml)?.[1] ?? '') : undefined
  } while (token)
  return out
}

/** Deletes `keys` with DeleteObjects, 1,000 per request: thousands of single DELETEs take minutes here. */
export async function deleteKeys(swift, keys) {
  const all = [...keys]
  for (let i = 0; i < all.length; i += 1000) {
    const objects = all.slice(i, i + 1000).map((k) => `<Object><Key>${xmlEscape(k)}</Key></Object>`).join('')
    const xml = await bucketCall(swift, 'POST', 'delete=', `<Delete><Quiet>true</Quiet>${objects}</Delete>`)
    if (/<Error>/.test(xml)) throw new Error(`DeleteObjects: ${xml.slice(0, 300)}`)
  }
}
