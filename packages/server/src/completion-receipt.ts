/**
 * At most one `onComplete` per upload, with a stateless server: a receipt in storage
 * (`.valet/receipts/<sha256(uploadId)>`) records that a run started and, once it returned, the
 * answer it produced. The first complete creates the receipt (a conditional write where the
 * store has one, so replicas agree on the winner), runs the hook and stores the answer; every
 * later complete of that upload — a retry whose answer was lost, a concurrent one — gets that
 * stored answer without running the hook again.
 *
 * A hook that throws removes the receipt: the app refused, so a retry may run it again. A server
 * that dies mid-hook leaves a `running` receipt; after {@link RECEIPT_LEASE_MS} another complete
 * takes it over (at-least-once in that one case, hence `uploadId` as the hook's idempotency key).
 */
import { ValetError, bareEtag, type CompleteUploadResponse, type CompletedPart } from '@valet/protocol'
import { sha256Hex } from './sha256-hex.js'
import type { RecordStore } from './storage.js'

/** A `running` receipt older than this is presumed to belong to a server that died. */
export const RECEIPT_LEASE_MS = 5 * 60_000
/** How long a complete waits for a concurrent one's hook before answering "retry later". */
const WAIT_MS = 10_000
const POLL_MS = 200

interface Receipt {
  v: 1
  state: 'running' | 'done'
  startedAt: string
  /** Digest of the part list that was committed: another list names another object. */
  parts: string
  response?: CompleteUploadResponse
}

function parse(text: string | undefined): Receipt | undefined {
  if (text === undefined) return undefined
  try {
    const r = JSON.parse(text) as Receipt
    return r && r.v === 1 && (r.state === 'running' || r.state === 'done') && typeof r.parts === 'string' ? r : undefined
  } catch {
    return undefined
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    signal?.throwIfAborted()
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true })
  })

export class CompletionReceipt {
  private constructor(
    private readonly records: RecordStore,
    private readonly name: string,
    private readonly parts: string,
    private readonly signal: AbortSignal | undefined,
    private readonly now: () => number,
  ) {}

  static async of(records: RecordStore, uploadId: string, parts: CompletedPart[], signal?: AbortSignal, now: () => number = Date.now): Promise<CompletionReceipt> {
    const list = JSON.stringify(parts.map((p) => [p.partNumber, bareEtag(p.etag).toLowerCase()]))
    return new CompletionReceipt(records, `receipts/${await sha256Hex(uploadId)}.json`, await sha256Hex(list), signal, now)
  }

  /** Whether a run of the hook started for this upload (finished or not): its object is spoken for. */
  async started(): Promise<boolean> {
    return parse(await this.records.read(this.name, this.signal)) !== undefined
  }

  /** The answer of a finished run of this complete, if there was one. */
  async finished(): Promise<CompleteUploadResponse | undefined> {
    return this.answer(parse(await this.records.read(this.name, this.signal)))
  }

  /** A finished run's answer; another part list than the one it committed is refused. */
  private answer(r: Receipt | undefined): CompleteUploadResponse | undefined {
    if (r?.state !== 'done' || !r.response) return undefined
    if (r.parts !== this.parts) {
      throw new ValetError('object_exists', 'this upload was completed with other parts: the object is committed and never changes', {
        context: { key: r.response.key },
      })
    }
    return r.response
  }

  /**
   * Runs `hook` unless a run of it for this upload finished (its answer is returned) or is
   * under way (waited for, then `rate_limited` with a retry hint).
   */
  async runOnce(hook: () => Promise<unknown>, response: CompleteUploadResponse): Promise<CompleteUploadResponse> {
    const started = this.now()
    for (;;) {
      if (await this.records.create(this.name, this.receipt('running'), this.signal)) break
      const r = parse(await this.records.read(this.name, this.signal))
      const done = this.answer(r)
      if (done) return done
      if (r === undefined || this.now() - Date.parse(r.startedAt) > RECEIPT_LEASE_MS) {
        // Gone (a run failed meanwhile), unreadable, or left by a dead server: ours now.
        await this.records.write(this.name, this.receipt('running'), this.signal)
        break
      }
      if (this.now() - started > WAIT_MS) {
        throw new ValetError('rate_limited', 'another request is completing this upload; retry shortly', { context: { retryAfter: 2 } })
      }
      await sleep(POLL_MS, this.signal)
    }
    let result: unknown
    try {
      result = await hook()
    } catch (error) {
      await this.records.remove(this.name).catch(() => {})
      throw error
    }
    const answer: CompleteUploadResponse = result === undefined ? response : { ...response, result }
    // Not on the request's signal: the hook ran, so its answer must be kept even if the client
    // hung up meanwhile, or a retry would run the hook again.
    await this.records.write(this.name, this.receipt('done', answer))
    return answer
  }

  private receipt(state: Receipt['state'], response?: CompleteUploadResponse): string {
    const r: Receipt = { v: 1, state, startedAt: new Date(this.now()).toISOString(), parts: this.parts, ...(response ? { response } : {}) }
    return JSON.stringify(r)
  }
}
