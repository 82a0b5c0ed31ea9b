/** The "fix:" texts of `valet doctor`: concrete settings per storage, filled in with the origin. */
import type { StorageKind } from './doctor-cors.js'

/**
 * Bucket CORS for AWS S3, MinIO, R2 (`aws s3api put-bucket-cors`, or the console's JSON editor):
 * single-PUT uploads also send their signed type, disposition, metadata and `If-None-Match`.
 */
export function s3CorsFix(origin: string): string {
  const rules = {
    CORSRules: [
      { AllowedOrigins: [origin], AllowedMethods: ['PUT'], AllowedHeaders: ['content-md5', 'content-type', 'content-disposition', 'if-none-match', 'x-amz-meta-*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 3600 },
    ],
  }
  return `S3: put this CORS configuration on the bucket (aws s3api put-bucket-cors --bucket BUCKET --cors-configuration file://cors.json):\n${JSON.stringify(rules)}`
}

/** Blob service CORS for Azure (and Azurite). `setProperties` replaces the whole list. */
export function azureCorsFix(origin: string): string {
  const rule = `{ allowedOrigins: '${origin}', allowedMethods: 'PUT', allowedHeaders: 'content-md5,content-type,if-none-match,x-ms-*', exposedHeaders: 'etag,content-md5,x-ms-*', maxAgeInSeconds: 3600 }`
  return (
    `Azure: add a Blob service CORS rule (keep your other rules: setProperties replaces the list):\n` +
    `await blobServiceClient.setProperties({ cors: [${rule}] })\n` +
    `or: az storage cors add --services b --origins ${origin} --methods PUT --allowed-headers 'content-md5,content-type,if-none-match,x-ms-*' --exposed-headers 'etag,content-md5,x-ms-*' --max-age 3600`
  )
}

/** OpenStack Swift with s3api: CORS comes from the proxy (or container metadata), not from bucket CORS. */
export function swiftCorsFix(origin: string): string {
  return (
    `Swift: in proxy-server.conf, [app:proxy-server] cors_allow_origin = ${origin} and cors_expose_headers = ETag; ` +
    `[filter:s3api] cors_preflight_allow_origin = ${origin}; then restart the proxy ` +
    `(or per container: X-Container-Meta-Access-Control-Allow-Origin: ${origin}, X-Container-Meta-Access-Control-Expose-Headers: ETag)`
  )
}

/**
 * Storage CORS for downloads (ranged GETs with read keys), beside the upload rule: GET allowed
 * with the range and version headers, ETag and Content-Range exposed.
 */
export function downloadCorsFix(kind: StorageKind, origin: string): string {
  const s3 = () => {
    const rule = { AllowedOrigins: [origin], AllowedMethods: ['GET'], AllowedHeaders: ['range', 'if-match'], ExposeHeaders: ['ETag', 'Content-Range'], MaxAgeSeconds: 3600 }
    return `S3: add this rule to the bucket's CORSRules, beside the upload rule (put-bucket-cors replaces the whole configuration):\n${JSON.stringify(rule)}`
  }
  const az = () => {
    const rule = `{ allowedOrigins: '${origin}', allowedMethods: 'GET', allowedHeaders: 'x-ms-range,if-match,x-ms-version', exposedHeaders: 'etag,content-range,content-length', maxAgeInSeconds: 3600 }`
    return (
      `Azure: add a Blob service CORS rule for GET (keep your other rules: setProperties replaces the list):\n` +
      `await blobServiceClient.setProperties({ cors: [...rules, ${rule}] })\n` +
      `or: az storage cors add --services b --origins ${origin} --methods GET --allowed-headers 'x-ms-range,if-match,x-ms-version' --exposed-headers 'etag,content-range,content-length' --max-age 3600`
    )
  }
  const swift = () =>
    `Swift: in proxy-server.conf, [app:proxy-server] cors_allow_origin = ${origin} and cors_expose_headers = ETag, Content-Range; ` +
    `[filter:s3api] cors_preflight_allow_origin = ${origin}; then restart the proxy`
  switch (kind) {
    case 's3':
      return s3()
    case 'azure':
      return az()
    case 'swift':
      return swift()
    default:
      return [s3(), az(), swift()].join('\n')
  }
}

/** Storage CORS advice for the storage detected, or for every kind when it is not known. */
export function storageCorsFix(kind: StorageKind, origin: string): string {
  switch (kind) {
    case 's3':
      return s3CorsFix(origin)
    case 'azure':
      return azureCorsFix(origin)
    case 'swift':
      return swiftCorsFix(origin)
    default:
      return [s3CorsFix(origin), azureCorsFix(origin), swiftCorsFix(origin)].join('\n')
  }
}

/** The key endpoint answering a cross-origin page: what its CORS must allow. */
export function endpointCorsFix(origin: string, headers: string[]): string {
  const allowed = ['content-type', 'valet-token', ...headers.filter((h) => h !== 'content-type' && h !== 'valet-token')]
  return (
    `let the key endpoint answer CORS for ${origin}: OPTIONS → 204 with Access-Control-Allow-Origin: ${origin}, ` +
    `Access-Control-Allow-Methods: GET, POST, DELETE, Access-Control-Allow-Headers: ${allowed.join(', ')}, ` +
    `and Access-Control-Allow-Origin on every answer (Express: app.use('/api/valet', cors({ origin: '${origin}' })) before the Valet handler); ` +
    `or serve the page and the endpoint from one origin`
  )
}

/** Why `POST /uploads` failed, as a fix. `status` 0: no answer at all. */
export function endpointFix(status: number, code: string | undefined, endpoint: string): string {
  if (status === 0) {
    return `check --endpoint (${endpoint}): it must be the URL the page calls, mount path included, and the key server must be up and reachable from browsers`
  }
  if (status === 401 || status === 403 || code === 'unauthorized' || code === 'forbidden') {
    return `pass what your page sends, e.g. --header "authorization: Bearer TOKEN" or --header "cookie: session=…": authorize() returned null (401) or refused (403)`
  }
  if (status === 404 || status === 405) {
    return `--endpoint must be where createValet is mounted (routes match the end of the path): POST ${endpoint}/uploads must reach valet.fetch`
  }
  if (code === 'type_not_allowed' || code === 'file_too_large') {
    return 'the test uploads are text/plain (1 byte) and application/octet-stream (5 MiB + 1 byte): allow them for this principal, or run the doctor against a key endpoint without those limits'
  }
  if (code === 'storage_error' || code === 'storage_rejected') {
    return "the key server could not reach storage: check the provider's endpoint, credentials and bucket/container in createValet({ storage })"
  }
  return 'see the key server\'s log for this request (onError receives unexpected errors)'
}

/** Why storage refused a fresh valet key, as a fix; `code` is S3's `<Code>` or Azure's `x-ms-error-code`. */
export function storagePutFix(status: number, code: string | undefined, kind: StorageKind): string {
  if (status === 0) {
    return "browsers must reach storage at the URL the key server signs: set the provider's endpoint (s3({ endpoint }), azure({ endpoint })) to an address they can reach"
  }
  switch (code) {
    case 'SignatureDoesNotMatch':
      return "the key's signature did not verify: check the S3 credentials and region, and that nothing between the page and storage rewrites the Host header or the URL (keys sign host, content-length and content-md5)"
    case 'RequestTimeTooSkewed':
    case 'AccessDenied':
    case 'AuthenticationFailed':
      return "storage refused the key: check the provider's credentials and permissions, and sync the key server's and storage's clocks with NTP (a key is dated by the key server)"
    case 'BadDigest':
    case 'InvalidDigest':
    case 'Md5Mismatch':
      return 'storage rejected the Content-MD5 of the test part: a proxy between this machine and storage changes request bodies'
    default:
      return kind === 'azure'
        ? 'check the account key and container in azure({ ... }) and that the container exists'
        : 'check the bucket, region and credentials in s3({ ... }), and that the bucket exists'
  }
}
