/**
 * Reading a key server's call log: which protocol route a request is, and what the log must
 * show of a well-behaved client.
 */

export type Op = 'create' | 'sign' | 'list' | 'complete' | 'abort' | 'other'

/** Which protocol route a request is (design.md's five, below any base path). */
export function classify(method: string, path: string): Op {
  if (method === 'POST' && /\/uploads\/?$/.test(path)) return 'create'
  if (method === 'POST' && /\/uploads\/[^/]+\/parts$/.test(path)) return 'sign'
  if (method === 'GET' && /\/uploads\/[^/]+\/parts$/.test(path)) return 'list'
  if (method === 'POST' && /\/uploads\/[^/]+\/complete$/.test(path)) return 'complete'
  if (method === 'DELETE' && /\/uploads\/[^/]+$/.test(path)) return 'abort'
  return 'other'
}

/** What {@link completeCallsNameEveryPart} reads of a call. */
interface LoggedCall {
  op: Op
  status?: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  request?: any
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  response?: any
}

/** Every complete call named exactly parts 1..partCount of the created upload, each once. */
export function completeCallsNameEveryPart(calls: readonly LoggedCall[]): { ok: boolean; detail: string } {
  const partCount: number | undefined = calls.find((c) => c.op === 'create' && c.status === 201)?.response?.partCount
  const expected = JSON.stringify(Array.from({ length: partCount ?? 0 }, (_, i) => i + 1))
  // A complete whose body never arrived whole (its connection reset on the way) named nothing.
  for (const call of calls.filter((c) => c.op === 'complete' && c.request !== undefined)) {
    const numbers = ((call.request?.parts ?? []) as { partNumber: number }[]).map((p) => p.partNumber).sort((a, b) => a - b)
    if (JSON.stringify(numbers) !== expected) return { ok: false, detail: `complete named parts [${numbers.join(',')}], plan has ${partCount}` }
  }
  return { ok: true, detail: '' }
}
