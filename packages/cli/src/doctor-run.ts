/**
 * `valet doctor`'s walk through a deployment, in the order a browser upload meets it: create an
 * upload, get a key, PUT a part from the page's origin, then time a 5 MiB part. Every test
 * upload is aborted at the end, whatever happened.
 */
import { createHash, randomBytes } from 'node:crypto'
import { MIN_PLANNED_PART_SIZE, type CreateUploadResponse } from '@valet/protocol'
import type { DoctorArgs } from './doctor-args.js'
import { clockVerdict, dateHeaderTime, formatSeconds, lifetimeVerdict, signedSeconds, skewAt } from './doctor-clock.js'
import { storageKind } from './doctor-cors.js'
import { abortTestUpload, createTestUpload, endpointCorsCheck, probeDownloads, signTestPart } from './doctor-endpoint.js'
import { emptyFigures, type Check, type DoctorReport, type Figures } from './doctor-report.js'
import { isSuccess, putCheck, putPart, storageCorsAnswerCheck, storageDownloadCorsCheck, storagePreflightCheck } from './doctor-storage.js'
import { formatBytes, formatRate } from './format.js'

const SMALL_PUT_TIMEOUT_MS = 30_000
const RATE_PUT_TIMEOUT_MS = 120_000
/** The rate test's part: the smallest Valet plans, so the test stays cheap on slow links. */
const RATE_PART_SIZE = MIN_PLANNED_PART_SIZE

const md5 = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('base64')

/**
 * Runs every check against `args.endpoint` and resolves with the report; never leaves a test
 * upload open unless the endpoint refuses to abort it (then the `cleanup` check fails).
 *
 * @example
 * ```ts
 * const report = await runDoctor({ endpoint: 'http://127.0.0.1:3000/api/valet', origin: 'http://localhost:5173', headers: {}, json: false })
 * if (!report.ok) console.log(report.checks.filter((c) => c.status === 'fail'))
 * ```
 */
export async function runDoctor(args: DoctorArgs): Promise<DoctorReport> {
  const checks: Check[] = []
  const figures = emptyFigures()
  const uploads: CreateUploadResponse[] = []
  try {
    await diagnose(args, checks, figures, uploads)
  } finally {
    if (uploads.length > 0) checks.push(await cleanup(args, uploads))
  }
  return { ok: !checks.some((c) => c.status === 'fail'), endpoint: args.endpoint, origin: args.origin, checks, figures }
}

async function diagnose(args: DoctorArgs, checks: Check[], figures: Figures, uploads: CreateUploadResponse[]): Promise<void> {
  const small = await createTestUpload(args, { name: 'valet-doctor.txt', size: 1, type: 'text/plain' })
  if (!small.ok) {
    checks.push(small.check)
    return
  }
  uploads.push(small.value)
  // A 1-byte file gets the server's configured part size: what an ordinary file's parts will be.
  const partSize = small.value.partSize
  figures.partSizeBytes = partSize
  checks.push({ id: 'endpoint', status: 'ok', message: `POST /uploads answered 201 in ${Math.round(small.answer.elapsedMs)} ms (planned part size ${formatBytes(partSize)})` })
  if (args.origin !== new URL(args.endpoint).origin) checks.push(await endpointCorsCheck(args, small.answer))

  const body = new TextEncoder().encode('v')
  const signed = await signTestPart(args, small.value, { partNumber: 1, size: body.byteLength, md5: md5(body) })
  if (!signed.ok) {
    checks.push(signed.check)
    return
  }
  const { key, serverTime } = signed.value
  // Both ends are the key server's clock: no skew in it.
  const lifetimeMs = Date.parse(key.expiresAt) - serverTime
  const skewKeyServer = skewAt(serverTime, signed.answer.sentAt, signed.answer.receivedAt)
  figures.keyLifetimeSeconds = Math.round(lifetimeMs / 100) / 10
  figures.skewKeyServerMs = skewKeyServer
  checks.push({ id: 'sign', status: 'ok', message: `POST /uploads/:id/parts signed a key that lives ${formatSeconds(lifetimeMs)}` })
  checks.push({
    id: 'clock-key-server',
    status: 'ok',
    message: `the key server's clock is ${signedSeconds(skewKeyServer)} from this machine's (clients correct for this with serverTime)`,
  })

  // Straight after signing, before the preflight: the shortest keys must still be fresh when the PUT starts.
  const put = await putPart(key, body, SMALL_PUT_TIMEOUT_MS, args.origin)
  const kind = storageKind(key.url, put.headers)
  checks.push(await storagePreflightCheck(key, args.origin, kind))
  checks.push(putCheck(put, key.url, kind))
  if (isSuccess(put)) checks.push(storageCorsAnswerCheck(put, args.origin, kind))
  // Downloads need more of storage's CORS than uploads: their own check, so either can be fixed alone.
  checks.push(await storageDownloadCorsCheck(key, args.origin, kind, put.status === 0 ? undefined : put, await probeDownloads(args)))

  let storageAheadMs: number | undefined
  const storageTime = put.status === 0 ? undefined : dateHeaderTime(put.headers['date'])
  if (storageTime !== undefined) {
    figures.skewStorageMs = skewAt(storageTime, put.sentAt, put.receivedAt)
    storageAheadMs = figures.skewStorageMs - skewKeyServer
    checks.push({ id: 'clock-storage', ...clockVerdict(skewKeyServer, figures.skewStorageMs) })
  } else if (put.status !== 0) {
    checks.push({ id: 'clock-storage', status: 'warn', message: "storage's answer had no Date header: its clock could not be compared with the key server's" })
  }

  const rate = await measureRate(args, uploads)
  if (rate.rate !== undefined) figures.uploadRateBytesPerSecond = Math.round(rate.rate)
  checks.push(rate.check)
  checks.push({ id: 'key-lifetime', ...lifetimeVerdict({ lifetimeMs, partSize, rate: rate.rate, storageAheadMs }) })
}

/** Times one part of about 5 MiB from this machine to storage, through a second test upload. */
async function measureRate(args: DoctorArgs, uploads: CreateUploadResponse[]): Promise<{ check: Check; rate?: number }> {
  const unmeasured = (why: string, fix?: string): { check: Check } => ({
    check: { id: 'upload-rate', status: 'warn', message: `upload rate not measured: ${why}`, ...(fix === undefined ? {} : { fix }) },
  })
  // One byte more than a part, so part 1 is a full-size, non-last part, as most parts are.
  const created = await createTestUpload(args, { name: 'valet-doctor.bin', size: RATE_PART_SIZE + 1, type: 'application/octet-stream', partSize: RATE_PART_SIZE })
  if (!created.ok) return unmeasured(created.check.message, created.check.fix)
  uploads.push(created.value)
  const size = Math.min(created.value.partSize, RATE_PART_SIZE + 1)
  const bytes = randomBytes(size)
  const signed = await signTestPart(args, created.value, { partNumber: 1, size, md5: md5(bytes) })
  if (!signed.ok) return unmeasured(signed.check.message, signed.check.fix)
  const put = await putPart(signed.value.key, bytes, RATE_PUT_TIMEOUT_MS)
  if (!isSuccess(put)) return unmeasured(putCheck(put, signed.value.key.url, storageKind(signed.value.key.url, put.headers)).message)
  const rate = size / (Math.max(1, put.elapsedMs) / 1000)
  return {
    rate,
    check: {
      id: 'upload-rate',
      status: 'ok',
      message: `a ${formatBytes(size)} part reached storage in ${formatSeconds(put.elapsedMs)}: ${formatRate(rate)} from this machine (a browser's link may be slower)`,
    },
  }
}

/** Aborts every test upload; one the endpoint will not abort stays in storage, which fails the run. */
async function cleanup(args: DoctorArgs, uploads: CreateUploadResponse[]): Promise<Check> {
  const answers = await Promise.all(uploads.map(async (upload) => ({ upload, answer: await abortTestUpload(args, upload) })))
  const left = answers.filter(({ answer }) => !isSuccess(answer))
  if (left.length === 0) {
    return { id: 'cleanup', status: 'ok', message: `${uploads.length} test upload${uploads.length === 1 ? '' : 's'} aborted: nothing left in storage` }
  }
  const what = left.map(({ upload, answer }) => `${upload.key} (${answer.status === 0 ? (answer.error ?? 'no answer') : answer.status})`).join(', ')
  return {
    id: 'cleanup',
    status: 'fail',
    message: `DELETE /uploads/:id failed, so test uploads are left in storage: ${what}; browsers' cancel fails the same way`,
    fix:
      'let DELETE reach valet.fetch with the valet-token header; remove the leftovers by hand ' +
      '(S3: AbortMultipartUpload, or a lifecycle rule AbortIncompleteMultipartUpload; Azure: uncommitted blocks expire after 7 days)',
  }
}
