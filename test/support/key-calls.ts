/**
 * A key server's call log (key-server.ts): which protocol route a request is, what the log keeps
 * of a call, and what it must show of a well-behaved client.
 */

export type Op = 'create' | 'sign' | 'list' | 'complete' | 'abort' | 'create-batch' | 'complete-batch' | 'open-download' | 'sign-ranges' | 'other'

/**
 * Which protocol route a request is (design.md's five, the two batch routes and the two download
 * routes, below any base path; a query is ignored). Upload ids are never `batch`, so the batch
 * routes come first.
 */
export function classify(method: string, url: string): Op {
  const path = url.split('?')[0] ?? ''
  if (method === 'POST' && /\/uploads\/batch$/.test(path)) return 'create-batch'
  if (method === 'POST' && /\/uploads\/batch\/complete$/.test(path)) return 'complete-batch'
  if (method === 'POST' && /\/uploads\/?$/.test(path)) return 'create'
  if (method === 'POST' && /\/uploads\/[^/]+\/parts$/.test(path)) return 'sign'
  if (method === 'GET' && /\/uploads\/[^/]+\/parts$/.test(path)) return 'list'
  if (method === 'POST' && /\/uploads\/[^/]+\/complete$/.test(path)) return 'complete'
  if (method === 'DELETE' && /\/uploads\/[^/]+$/.test(path)) return 'abort'
  if (method === 'POST' && /\/downloads\/?$/.test(path)) return 'open-download'
  if (method === 'POST' && /\/downloads\/ranges$/.test(path)) return 'sign-ranges'
  return 'other'
}

export type HoldAt = 'before' | 'after'

/** One call a key endpoint received. */
export interface KeyCall {
  seq: number
  op: Op
  /** The base path of the endpoint it reached (`/api/valet`). */
  endpoint: string
  method: string
  path: string
  /** `Date.now()` when it arrived. */
  at: number
  /** ms from arrival to the answer (after storage and any hold); unset until answered. */
  ms?: number
  /** HTTP status answered; unset while in the handler, or when the connection was dropped. */
  status?: number
  /** A POST's JSON body (its text when not JSON). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  request?: any
  /** The answer's JSON body, as sent (after a rewrite). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  response?: any
  /** From the path, or from the create answer. */
  uploadId?: string
  /** Object key, from create and complete answers. */
  key?: string
  /** Part numbers a sign request asked keys for. */
  parts?: number[]
  /** The `requestId` a create carried. */
  requestId?: string
  /** The `x-user` header: which principal the call is for (when the suite authorizes by it). */
  user?: string
  /** Where the answer was held, if it was. */
  held?: HoldAt
  /** The fault the kit answered with instead of (or after) the real handler. */
  fault?: Fault
  /** The handler returned (answered, faulted or failed): what `of()` lists. */
  handled: boolean
  /** The whole answer went out to the socket ('finish'). */
  delivered: boolean
  /** The connection closed before the answer went out (the client died, or a drop fault). */
  cutOff: boolean
  /** Settles once the connection has closed (after the answer, or because the client died). */
  closed: Promise<void>
  /** Settles once the handler returned and the connection is done with. */
  settled: Promise<void>
}

/** A fault answered instead of the real one: an error status, or the connection dropped. */
export type Fault = { status: number; code?: string } | 'drop'

/** Every complete call named exactly parts 1..partCount of the created upload, each once. */
export function completeCallsNameEveryPart(calls: readonly Pick<KeyCall, 'op' | 'status' | 'request' | 'response'>[]): { ok: boolean; detail: string } {
  const partCount: number | undefined = calls.find((c) => c.op === 'create' && c.status === 201)?.response?.partCount
  const expected = JSON.stringify(Array.from({ length: partCount ?? 0 }, (_, i) => i + 1))
  // A complete whose body never arrived whole (its connection reset on the way) named nothing.
  for (const call of calls.filter((c) => c.op === 'complete' && c.request !== undefined)) {
    const numbers = ((call.request?.parts ?? []) as { partNumber: number }[]).map((p) => p.partNumber).sort((a, b) => a - b)
    if (JSON.stringify(numbers) !== expected) return { ok: false, detail: `complete named parts [${numbers.join(',')}], plan has ${partCount}` }
  }
  return { ok: true, detail: '' }
}
