import { describe, expect, it } from 'vitest'
import { azureCorsFix, endpointCorsFix, endpointFix, s3CorsFix, storageCorsFix, storagePutFix, swiftCorsFix } from './doctor-fixes.js'
import { emptyFigures, renderReport, reportJson, type DoctorReport } from './doctor-report.js'

const ORIGIN = 'https://app.example.com'

function report(overrides: Partial<DoctorReport> = {}): DoctorReport {
  return {
    ok: false,
    endpoint: 'https://api.example.com/api/valet',
    origin: ORIGIN,
    checks: [
      { id: 'endpoint', status: 'ok', message: 'POST /uploads answered 201 in 12 ms' },
      { id: 'storage-cors-preflight', status: 'fail', message: 'preflight refused', fix: azureCorsFix(ORIGIN) },
      { id: 'storage-cors-response', status: 'fail', message: 'no Access-Control-Allow-Origin', fix: azureCorsFix(ORIGIN) },
      { id: 'key-lifetime', status: 'warn', message: 'keys live only 2.0 s', fix: 'raise keyTtl' },
    ],
    figures: { ...emptyFigures(), keyLifetimeSeconds: 2, skewKeyServerMs: 12, skewStorageMs: -480, uploadRateBytesPerSecond: 40 * 1024 * 1024 },
    ...overrides,
  }
}

describe('renderReport', () => {
  it('prints an ASCII checklist with fix blocks (each snippet once), figures and a verdict', () => {
    const text = renderReport(report(), 'plain')
    const lines = text.split('\n')
    expect(lines[0]).toBe('valet doctor: https://api.example.com/api/valet (page origin https://app.example.com)')
    expect(lines[1]).toBe('[ok]   endpoint: POST /uploads answered 201 in 12 ms')
    expect(lines[2]).toBe('[FAIL] storage-cors-preflight: preflight refused')
    expect(lines[3]).toMatch(/^ {4}fix: Azure: add a Blob service CORS rule/)
    expect(lines[4]).toMatch(/^ {9}await blobServiceClient\.setProperties/)
    expect(text).toContain('[FAIL] storage-cors-response: no Access-Control-Allow-Origin\n    fix: as for storage-cors-preflight above\n')
    expect(text).toContain('[warn] key-lifetime: keys live only 2.0 s\n    fix: raise keyTtl\n')
    expect(text).toContain('figures: key lifetime 2 s, key server clock +0.0 s, storage clock -0.5 s, upload rate 40.0 MiB/s')
    expect(text).toMatch(/Not ready for browser uploads: 2 failed, 1 warning, 1 ok\.\n$/)
    expect(text).not.toMatch(/\x1b\[/)
  })

  it('uses ✔ ! ✖ on a terminal, and says ready when nothing failed', () => {
    const text = renderReport(report({ ok: true, checks: [{ id: 'a', status: 'ok', message: 'm' }, { id: 'b', status: 'warn', message: 'w', fix: 'f' }] }), 'tty')
    expect(text).toContain('✔\x1b[0m a: m')
    expect(text).toContain('!\x1b[0m b: w\n    fix: f')
    expect(text).toMatch(/Ready for browser uploads: 0 failed, 1 warning, 1 ok\.\n$/)
  })

  it('prints one JSON object with ok, checks and figures', () => {
    const parsed = JSON.parse(reportJson(report()))
    expect(parsed.ok).toBe(false)
    expect(parsed.checks[1]).toEqual({ id: 'storage-cors-preflight', status: 'fail', message: 'preflight refused', fix: azureCorsFix(ORIGIN) })
    expect(parsed.figures).toEqual({ keyLifetimeSeconds: 2, skewKeyServerMs: 12, skewStorageMs: -480, uploadRateBytesPerSecond: 40 * 1024 * 1024, partSizeBytes: null })
  })
})

describe('fix texts', () => {
  it('S3: a bucket CORS configuration with the origin, PUT, the headers single PUTs sign and ETag exposed', () => {
    const fix = s3CorsFix(ORIGIN)
    const json = JSON.parse(fix.slice(fix.indexOf('{')))
    expect(json).toEqual({
      CORSRules: [{ AllowedOrigins: [ORIGIN], AllowedMethods: ['PUT'], AllowedHeaders: ['content-md5', 'content-type', 'content-disposition', 'if-none-match', 'x-amz-meta-*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 3600 }],
    })
    expect(fix).toContain('put-bucket-cors')
  })

  it('Azure: setProperties cors with exposedHeaders etag, and the az CLI equivalent', () => {
    const fix = azureCorsFix(ORIGIN)
    expect(fix).toContain(`setProperties({ cors: [{ allowedOrigins: '${ORIGIN}', allowedMethods: 'PUT', allowedHeaders: 'content-md5,content-type,if-none-match,x-ms-*', exposedHeaders: 'etag,content-md5,x-ms-*'`)
    expect(fix).toContain(`az storage cors add --services b --origins ${ORIGIN} --methods PUT`)
  })

  it('Swift: proxy cors_allow_origin and cors_expose_headers = ETag', () => {
    expect(swiftCorsFix(ORIGIN)).toMatch(/cors_allow_origin = https:\/\/app\.example\.com and cors_expose_headers = ETag/)
  })

  it('gives the detected storage its advice, and all three when unknown', () => {
    expect(storageCorsFix('s3', ORIGIN)).toBe(s3CorsFix(ORIGIN))
    expect(storageCorsFix('azure', ORIGIN)).toBe(azureCorsFix(ORIGIN))
    expect(storageCorsFix('swift', ORIGIN)).toBe(swiftCorsFix(ORIGIN))
    expect(storageCorsFix('unknown', ORIGIN).split('\n').filter((l) => /^(S3|Azure|Swift):/.test(l))).toHaveLength(3)
  })

  it('the key endpoint: methods and headers to allow, the app headers included', () => {
    expect(endpointCorsFix(ORIGIN, ['authorization'])).toMatch(/Access-Control-Allow-Methods: GET, POST, DELETE, Access-Control-Allow-Headers: content-type, valet-token, authorization/)
  })

  it.each([
    [0, undefined, /check --endpoint/],
    [401, 'unauthorized', /--header "authorization: Bearer TOKEN"/],
    [404, undefined, /where createValet is mounted/],
    [413, 'file_too_large', /test uploads are text\/plain/],
    [502, 'storage_error', /could not reach storage/],
  ])('endpoint failure %i %s', (status, code, fix) => {
    expect(endpointFix(status, code, 'https://api.example.com/api/valet')).toMatch(fix)
  })

  it.each([
    [0, undefined, 's3', /an address they can reach/],
    [403, 'SignatureDoesNotMatch', 's3', /rewrites the Host header/],
    [403, 'AuthenticationFailed', 'azure', /NTP/],
    [400, 'BadDigest', 's3', /changes request bodies/],
    [404, 'NoSuchBucket', 's3', /bucket exists/],
  ] as const)('storage refusal %i %s', (status, code, kind, fix) => {
    expect(storagePutFix(status, code, kind)).toMatch(fix)
  })
})
