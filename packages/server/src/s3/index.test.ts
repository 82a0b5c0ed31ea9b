import { createHash } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { http, HttpResponse, type DefaultBodyType } from 'msw'
import { setupServer } from 'msw/node'
import { isValetError, type ValetError } from '@valet/protocol'
import { s3, s3StorageLimits } from './index.js'

// msw answers every request in-process; an unmatched one fails instead of leaving the machine.
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  server.resetHandlers()
  vi.useRealTimers()
})
afterAll(() => server.close())

const credentials = { accessKeyId: 'AKID', secretAccessKey: 'SECRET' }
const ENDPOINT = 'http://127.0.0.1:9000'
const OBJECT = `${ENDPOINT}/bucket/u1/a%20b.bin`
const provider = s3({ endpoint: ENDPOINT, bucket: 'bucket', credentials, forcePathStyle: true })
const key = 'u1/a b.bin'
const ref = { uploadId: 'up', key, owner: 'u1' }
const plain = { type: '', disposition: undefined, metadata: {} }

const xml = (body: string, status = 200) =>
  new HttpResponse(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`, { status, headers: { 'content-type': 'application/xml' } })
const s3Error = (code: string, status: number) => xml(`<Error><Code>${code}</Code><Message>msg for ${code}</Message><RequestId>req-1</RequestId></Error>`, status)

async function rejection(promise: Promise<unknown>): Promise<ValetError> {
  const e = await promise.then(() => undefined, (err: unknown) => err)
  if (!isValetError(e)) throw new Error(`expected a ValetError, got ${String(e)}`)
  return e
}

/** Records each request (method, URL, headers, body) a handler saw. */
function recorder() {
  const seen: { method: string; url: URL; headers: Headers; body: string }[] = []
  const record = async (request: Request) => {
    seen.push({ method: request.method, url: new URL(request.url), headers: request.headers, body: await request.clone().text() })
  }
  return { seen, record }
}

describe('s3 provider', () => {
  it('identifies itself with the S3 limits', () => {
    expect(provider.name).toBe('s3')
    expect(provider.limits).toBe(s3StorageLimits)
    expect(provider.limits).toMatchObject({ maxParts: 10_000, maxMetadataValueBytes: 256 })
  })

  it('refuses bad options at construction with invalid_option', () => {
    expect(() => s3({ bucket: '', credentials })).toThrow(/^s3\(\): option `bucket` must be a non-empty string/)
    expect(() => s3({ bucket: '', credentials })).toThrow(expect.objectContaining({ code: 'invalid_option', context: { option: 'bucket', owner: 's3()' } }))
  })

  describe('create', () => {
    it('sends a signed CreateMultipartUpload with the type and metadata, returns the UploadId', async () => {
      const { seen, record } = recorder()
      server.use(
        http.post(OBJECT, async ({ request }) => {
          await record(request)
          return xml('<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>u1/a b.bin</Key><UploadId>id&amp;1</UploadId></InitiateMultipartUploadResult>')
        }),
      )
      const res = await provider.create({ key, owner: 'u1', uniqueId: 'x', type: 'image/png', disposition: 'attachment', metadata: { album: 'summer', user_id: '7' } })
      expect(res).toEqual({ uploadId: 'id&1' })
      const [req] = seen
      expect(req!.url.search).toBe('?uploads')
      expect(req!.headers.get('content-type')).toBe('image/png')
      expect(req!.headers.get('content-disposition')).toBe('attachment')
      expect(req!.headers.get('x-amz-meta-album')).toBe('summer')
      expect(req!.headers.get('x-amz-meta-user_id')).toBe('7')
      expect(req!.headers.get('x-amz-content-sha256')).toBe(createHash('sha256').update('').digest('hex'))
      const auth = req!.headers.get('authorization')!
      expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=/)
      // Every x-amz-* header must be signed or S3 refuses the request.
      expect(auth).toContain('SignedHeaders=content-disposition;host;x-amz-content-sha256;x-amz-date;x-amz-meta-album;x-amz-meta-user_id,')
    })

    it('uses the virtual-hosted address and sends a session token', async () => {
      const hosted = s3({ endpoint: 'https://s3.example.test', bucket: 'bkt', credentials: { ...credentials, sessionToken: 'TOK' } })
      const { seen, record } = recorder()
      server.use(
        http.post('https://bkt.s3.example.test/k', async ({ request }) => {
          await record(request)
          return xml('<InitiateMultipartUploadResult><UploadId>u</UploadId></InitiateMultipartUploadResult>')
        }),
      )
      await hosted.create({ key: 'k', owner: 'o', uniqueId: 'x', type: 'text/plain', disposition: undefined, metadata: {} })
      expect(seen[0]!.headers.get('x-amz-security-token')).toBe('TOK')
      expect(seen[0]!.headers.get('authorization')).toContain('x-amz-security-token')
    })

    it('maps an S3 error to storage_error with status and code', async () => {
      server.use(http.post(OBJECT, () => s3Error('AccessDenied', 403)))
      const e = await rejection(provider.create({ key, owner: 'u1', uniqueId: 'x', disposition: undefined, type: 'text/plain', metadata: {} }))
      expect(e.code).toBe('storage_error')
      expect(e.status).toBe(502)
      expect(e.message).toBe('S3 CreateMultipartUpload failed: AccessDenied (HTTP 403): msg for AccessDenied')
      expect(e.context).toMatchObject({ status: 403, s3Code: 'AccessDenied', requestId: 'req-1' })
    })

    it('refuses a 200 without an UploadId', async () => {
      server.use(http.post(OBJECT, () => xml('<InitiateMultipartUploadResult/>')))
      const e = await rejection(provider.create({ key, owner: 'u1', uniqueId: 'x', disposition: undefined, type: 'text/plain', metadata: {} }))
      expect(e.code).toBe('storage_error')
      expect(e.message).toMatch(/no <UploadId>/)
    })
  })

  describe('signPart', () => {
    it('presigns against the configured endpoint with X-Amz-Expires from expiresAt', async () => {
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(new Date('2024-01-02T03:04:05.000Z'))
      const part = await provider.signPart({ uploadId: 'up', key, owner: 'u1', partNumber: 2, size: 10, md5: '1B2M2Y8AsgTpgAmY7PhCfg==', expiresAt: new Date('2024-01-02T03:19:05.000Z') })
      const url = new URL(part.url)
      expect(url.origin + url.pathname).toBe(OBJECT)
      expect(url.searchParams.get('X-Amz-Expires')).toBe('900')
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-md5;host')
      expect(part.expiresAt).toBe('2024-01-02T03:19:05.000Z')
      expect(part.headers).toEqual({ 'Content-MD5': '1B2M2Y8AsgTpgAmY7PhCfg==' })
    })
  })

  describe('listParts', () => {
    const part = (n: number, size: number, etag: string) => `<Part><PartNumber>${n}</PartNumber><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>${etag}</ETag><Size>${size}</Size></Part>`
    const page = (truncated: boolean, next: number | undefined, parts: string) =>
      xml(
        `<ListPartsResult><Bucket>bucket</Bucket><Key>u1/a b.bin</Key><UploadId>up</UploadId><Initiator><ID>x</ID></Initiator>` +
          `<PartNumberMarker>0</PartNumberMarker>${next === undefined ? '' : `<NextPartNumberMarker>${next}</NextPartNumberMarker>`}` +
          `<MaxParts>2</MaxParts><IsTruncated>${truncated}</IsTruncated>${parts}</ListPartsResult>`,
      )

    it('follows NextPartNumberMarker and returns the parts sorted, ETags as S3 sent them', async () => {
      const { seen, record } = recorder()
      server.use(
        http.get(OBJECT, async ({ request }) => {
          await record(request)
          const marker = new URL(request.url).searchParams.get('part-number-marker')
          if (marker === null) return page(true, 3, part(3, 5, '&quot;c&quot;') + part(1, 5, '&quot;a&quot;'))
          return page(false, undefined, part(4, 2, '"d"'))
        }),
      )
      const parts = await provider.listParts({ uploadId: 'up+/=', key, owner: 'u1' })
      expect(parts).toEqual([
        { partNumber: 1, size: 5, etag: '"a"' },
        { partNumber: 3, size: 5, etag: '"c"' },
        { partNumber: 4, size: 2, etag: '"d"' },
      ])
      expect(seen.map((r) => r.url.search)).toEqual(['?uploadId=up%2B%2F%3D', '?uploadId=up%2B%2F%3D&part-number-marker=3'])
      expect(seen[0]!.url.searchParams.get('uploadId')).toBe('up+/=')
    })

    it('returns [] for an upload without parts', async () => {
      server.use(http.get(OBJECT, () => page(false, undefined, '')))
      expect(await provider.listParts({ uploadId: 'up', key, owner: 'u1' })).toEqual([])
    })

    it('maps NoSuchUpload to upload_not_found', async () => {
      server.use(http.get(OBJECT, () => s3Error('NoSuchUpload', 404)))
      const e = await rejection(provider.listParts({ uploadId: 'gone', key, owner: 'u1' }))
      expect(e.code).toBe('upload_not_found')
      expect(e.status).toBe(404)
      expect(e.context).toMatchObject({ status: 404, s3Code: 'NoSuchUpload' })
    })

    it('refuses a marker that does not advance', async () => {
      server.use(http.get(OBJECT, () => page(true, 0, part(1, 5, '"a"'))))
      const e = await rejection(provider.listParts({ uploadId: 'up', key, owner: 'u1' }))
      expect(e.code).toBe('storage_error')
      expect(e.message).toMatch(/does not advance/)
    })

    it('refuses a malformed part', async () => {
      server.use(http.get(OBJECT, () => page(false, undefined, '<Part><PartNumber>1</PartNumber><ETag>"a"</ETag><Size>-1</Size></Part>')))
      expect((await rejection(provider.listParts({ uploadId: 'up', key, owner: 'u1' }))).message).toMatch(/<Size> is "-1"/)
    })

    it('maps other failures to storage_error', async () => {
      server.use(http.get(OBJECT, () => s3Error('InternalError', 500)))
      const e = await rejection(provider.listParts({ uploadId: 'up', key, owner: 'u1' }))
      expect(e.code).toBe('storage_error')
      expect(e.context).toMatchObject({ status: 500, s3Code: 'InternalError' })
    })
  })

  describe('complete', () => {
    const completed = () => xml('<CompleteMultipartUploadResult><Location>ignored</Location><Bucket>bucket</Bucket><Key>u1/a b.bin</Key><ETag>&quot;abc-2&quot;</ETag></CompleteMultipartUploadResult>')
    const head = () => new HttpResponse(null, { status: 200, headers: { 'content-length': '12345', etag: '"abc-2"' } })

    it('posts the sorted, quoted part list, then HEADs the object for its size', async () => {
      const { seen, record } = recorder()
      server.use(
        http.post(OBJECT, async ({ request }) => {
          await record(request)
          return completed()
        }),
        http.head(OBJECT, async ({ request }) => {
          await record(request)
          return head()
        }),
      )
      const res = await provider.complete({
        ...ref,
        parts: [{ partNumber: 2, etag: 'b&' }, { partNumber: 1, etag: '"a"' }],
        type: 'image/png',
        disposition: undefined,
        metadata: {},
      })
      expect(res).toEqual({ etag: '"abc-2"', size: 12345, location: OBJECT, type: undefined, disposition: undefined, metadata: {} })
      const [post, headReq] = seen
      expect(post!.url.search).toBe('?uploadId=up')
      expect(post!.headers.get('content-type')).toBe('application/xml')
      // Write-once: storage refuses to commit over an existing object.
      expect(post!.headers.get('if-none-match')).toBe('*')
      expect(post!.headers.get('authorization')).toContain('if-none-match')
      expect(post!.body).toBe(
        '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
          '<Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>"b&amp;"</ETag></Part>' +
          '</CompleteMultipartUpload>',
      )
      // The body hash is signed, so the part list cannot be altered in transit.
      expect(post!.headers.get('x-amz-content-sha256')).toBe(createHash('sha256').update(post!.body).digest('hex'))
      expect(headReq!.method).toBe('HEAD')
      expect(headReq!.url.search).toBe('')
    })

    it('detects an <Error> sent with 200 OK after keep-alive whitespace', async () => {
      server.use(http.post(OBJECT, () => new HttpResponse('\n  \n  \n<Error><Code>InternalError</Code><Message>try again</Message></Error>', { status: 200 })))
      const e = await rejection(provider.complete({ ...ref, parts: [{ partNumber: 1, etag: 'a' }], ...plain }))
      expect(e.code).toBe('storage_error')
      expect(e.context).toMatchObject({ status: 200, s3Code: 'InternalError' })
      expect(e.message).toBe('S3 CompleteMultipartUpload failed: InternalError (HTTP 200): try again')
    })

    it('maps NoSuchUpload to upload_not_found (no object there) and InvalidPart to storage_error', async () => {
      server.use(
        http.post(OBJECT, () => s3Error('NoSuchUpload', 404)),
        http.head(OBJECT, () => new HttpResponse(null, { status: 404 })),
      )
      expect((await rejection(provider.complete({ ...ref, parts: [], ...plain }))).code).toBe('upload_not_found')
      server.use(http.post(OBJECT, () => s3Error('InvalidPart', 400)))
      const e = await rejection(provider.complete({ ...ref, parts: [], ...plain }))
      expect(e.code).toBe('storage_error')
      expect(e.context).toMatchObject({ status: 400, s3Code: 'InvalidPart' })
    })

    it('fails when the object cannot be read back', async () => {
      server.use(
        http.post(OBJECT, () => completed()),
        http.head(OBJECT, () => new HttpResponse(null, { status: 403 })),
      )
      const e = await rejection(provider.complete({ ...ref, parts: [], ...plain }))
      expect(e.message).toBe('S3 HeadObject failed: HTTP 403')
    })

    const md5a = '0cc175b9c0f1b6a831c399e269772661'
    const md5b = '92eb5ffee6ae2fec3ad71c777531578f'
    const ours = '"7f1a3a6b1d9b42a1e3b0a0c4a1a5a7d1-2"'

    it('answers a commit refused by If-None-Match with the object, when it is this upload\'s (a lost answer)', async () => {
      const { multipartEtag } = await import('../multipart-etag.js')
      const etag = multipartEtag([md5a, md5b])!
      server.use(
        http.post(OBJECT, () => s3Error('PreconditionFailed', 412)),
        http.head(OBJECT, () => new HttpResponse(null, { status: 200, headers: { 'content-length': '7', etag, 'content-type': 'image/png', 'x-amz-meta-album': 'x' } })),
      )
      const res = await provider.complete({ ...ref, parts: [{ partNumber: 1, etag: md5a }, { partNumber: 2, etag: md5b }], ...plain })
      expect(res).toMatchObject({ etag, size: 7, type: 'image/png', metadata: { album: 'x' } })
    })

    it('refuses with object_exists when another object holds the key', async () => {
      server.use(
        http.post(OBJECT, () => s3Error('PreconditionFailed', 412)),
        http.head(OBJECT, () => new HttpResponse(null, { status: 200, headers: { 'content-length': '7', etag: ours } })),
      )
      const e = await rejection(provider.complete({ ...ref, parts: [{ partNumber: 1, etag: md5a }, { partNumber: 2, etag: md5b }], ...plain }))
      expect([e.code, e.status]).toEqual(['object_exists', 409])
    })

    it('commits after a look on a store without conditional commits (501), from then on', async () => {
      const { seen, record } = recorder()
      const local = s3({ endpoint: ENDPOINT, bucket: 'bucket', credentials, forcePathStyle: true })
      server.use(
        http.post(OBJECT, async ({ request }) => {
          await record(request)
          return request.headers.has('if-none-match') ? s3Error('NotImplemented', 501) : completed()
        }),
        http.head(OBJECT, () => head()),
      )
      await local.complete({ ...ref, parts: [{ partNumber: 1, etag: 'a' }], ...plain })
      await local.complete({ ...ref, parts: [{ partNumber: 1, etag: 'a' }], ...plain })
      expect(seen.map((r) => r.headers.has('if-none-match'))).toEqual([true, false, false])
    })
  })

  describe('uploadState', () => {
    const state = (headStatus: number, list: () => HttpResponse<DefaultBodyType>) => {
      server.use(http.head(OBJECT, () => new HttpResponse(null, { status: headStatus })), http.get(OBJECT, list))
      return provider.uploadState(ref)
    }
    it('is completed once an object is at the key, aborted once the upload is unknown, else open', async () => {
      expect(await state(200, () => xml('<ListPartsResult/>'))).toBe('completed')
      expect(await state(200, () => s3Error('NoSuchUpload', 404))).toBe('completed')
      expect(await state(404, () => s3Error('NoSuchUpload', 404))).toBe('aborted')
      expect(await state(404, () => xml('<ListPartsResult/>'))).toBe('open')
      expect((await rejection(state(404, () => s3Error('AccessDenied', 403)))).code).toBe('storage_error')
    })
  })

  describe('countOpenUploads and records', () => {
    const BUCKET = `${ENDPOINT}/bucket/`
    it('counts the uploads under the owner prefix up to the limit', async () => {
      const { seen, record } = recorder()
      const uploads = Array.from({ length: 5 }, (_, i) => `<Upload><Key>u1/k${i}</Key><UploadId>id${i}</UploadId></Upload>`).join('')
      server.use(
        http.get(BUCKET, async ({ request }) => {
          await record(request)
          return xml(`<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>${uploads}</ListMultipartUploadsResult>`)
        }),
      )
      expect(await provider.countOpenUploads({ owner: 'u1', limit: 3 })).toBe(3)
      expect(await provider.countOpenUploads({ owner: 'u1', limit: 32 })).toBe(5)
      expect(seen[0]!.url.searchParams.get('prefix')).toBe('u1/')
    })

    it('creates a record with If-None-Match: * and reports one that exists', async () => {
      const RECORD = `${ENDPOINT}/bucket/.valet/receipts/r.json`
      const { seen, record } = recorder()
      let exists = false
      server.use(
        http.put(RECORD, async ({ request }) => {
          await record(request)
          if (exists) return s3Error('PreconditionFailed', 412)
          exists = true
          return new HttpResponse(null, { status: 200 })
        }),
      )
      expect(await provider.records.create('receipts/r.json', '{}')).toBe(true)
      expect(await provider.records.create('receipts/r.json', '{}')).toBe(false)
      expect(seen[0]!.headers.get('if-none-match')).toBe('*')
      expect(provider.records.conditional).toBe(true)
    })
  })

  describe('findUploads', () => {
    const BUCKET = `${ENDPOINT}/bucket/`
    const upload = (k: string, id: string, at = '2024-01-01T00:00:05.000Z') =>
      `<Upload><Key>${k}</Key><UploadId>${id}</UploadId><Initiator><ID>x</ID></Initiator><StorageClass>STANDARD</StorageClass><Initiated>${at}</Initiated></Upload>`
    const page = (truncated: boolean, uploads: string, markers = '') =>
      xml(`<ListMultipartUploadsResult><Bucket>bucket</Bucket>${markers}<Prefix>u1/a b.bin</Prefix><MaxUploads>2</MaxUploads><IsTruncated>${truncated}</IsTruncated>${uploads}</ListMultipartUploadsResult>`)

    it('lists with prefix = key at the bucket, signed, and keeps only uploads at exactly that key', async () => {
      const { seen, record } = recorder()
      server.use(
        http.get(BUCKET, async ({ request }) => {
          await record(request)
          return page(false, upload('u1/a b.bin', 'id&amp;1', '2024-01-01T00:00:01.000Z') + upload('u1/a b.bin.more', 'other') + upload('u1/a b.bin', 'id-2'))
        }),
      )
      expect(await provider.findUploads!({ key })).toEqual([
        { uploadId: 'id&1', initiated: new Date('2024-01-01T00:00:01.000Z') },
        { uploadId: 'id-2', initiated: new Date('2024-01-01T00:00:05.000Z') },
      ])
      const [req] = seen
      expect(req!.url.pathname).toBe('/bucket/')
      expect(req!.url.searchParams.get('prefix')).toBe(key)
      expect(req!.url.searchParams.has('uploads')).toBe(true)
      expect(req!.headers.get('authorization')).toMatch(/^AWS4-HMAC-SHA256 /)
    })

    it('returns [] when nothing is open', async () => {
      server.use(http.get(BUCKET, () => page(false, '')))
      expect(await provider.findUploads!({ key })).toEqual([])
    })

    it('follows the next markers, or the last upload listed when a store leaves them empty (Swift)', async () => {
      const { seen, record } = recorder()
      server.use(
        http.get(BUCKET, async ({ request }) => {
          await record(request)
          const params = new URL(request.url).searchParams
          if (!params.has('key-marker')) return page(true, upload(key, 'a'), '<NextKeyMarker>u1/a b.bin</NextKeyMarker><NextUploadIdMarker>a</NextUploadIdMarker>')
          if (params.get('upload-id-marker') === 'a') return page(true, upload(key, 'b'), '<NextKeyMarker></NextKeyMarker><NextUploadIdMarker></NextUploadIdMarker>')
          return page(false, upload(key, 'c'))
        }),
      )
      expect((await provider.findUploads!({ key })).map((u) => u.uploadId)).toEqual(['a', 'b', 'c'])
      expect(seen.map((r) => [r.url.searchParams.get('key-marker'), r.url.searchParams.get('upload-id-marker')])).toEqual([
        [null, null],
        [key, 'a'],
        [key, 'b'],
      ])
    })

    it('refuses a truncated page that does not advance, and a malformed upload', async () => {
      server.use(http.get(BUCKET, () => page(true, '')))
      expect((await rejection(provider.findUploads!({ key }))).message).toMatch(/does not advance/)
      server.use(http.get(BUCKET, () => page(false, upload(key, 'a', 'yesterday'))))
      expect((await rejection(provider.findUploads!({ key }))).message).toMatch(/<Initiated> of upload a is "yesterday"/)
    })

    it('maps an S3 error (say, no s3:ListBucketMultipartUploads) to storage_error', async () => {
      server.use(http.get(BUCKET, () => s3Error('AccessDenied', 403)))
      const e = await rejection(provider.findUploads!({ key }))
      expect(e.code).toBe('storage_error')
      expect(e.message).toBe('S3 ListMultipartUploads failed: AccessDenied (HTTP 403): msg for AccessDenied')
    })
  })

  describe('abort', () => {
    it('sends AbortMultipartUpload', async () => {
      const { seen, record } = recorder()
      server.use(
        http.delete(OBJECT, async ({ request }) => {
          await record(request)
          return new HttpResponse(null, { status: 204 })
        }),
      )
      await provider.abort(ref)
      expect(seen[0]!.url.search).toBe('?uploadId=up')
    })

    it.each([
      ['NoSuchUpload', () => s3Error('NoSuchUpload', 404)],
      ['NoSuchKey (Swift after complete)', () => s3Error('NoSuchKey', 404)],
      ['a bare 404', () => new HttpResponse(null, { status: 404 })],
    ])('treats %s as already aborted', async (_, response) => {
      server.use(http.delete(OBJECT, response))
      await expect(provider.abort(ref)).resolves.toBeUndefined()
    })

    it.each([
      ['NoSuchBucket', 404],
      ['AccessDenied', 403],
      ['InternalError', 500],
    ])('surfaces %s', async (code, status) => {
      server.use(http.delete(OBJECT, () => s3Error(code, status)))
      const e = await rejection(provider.abort(ref))
      expect(e.code).toBe('storage_error')
      expect(e.context).toMatchObject({ status, s3Code: code })
    })
  })
})
