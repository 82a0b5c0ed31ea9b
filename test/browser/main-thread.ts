/**
 * The page's main thread during an upload: long tasks as the page sees them (PerformanceObserver),
 * part-sized work it should never do, and each task's CPU time from a Chromium trace, which tells
 * a task that computed from one that waited for a core.
 */
import type { CDPSession, Page } from 'playwright-core'

/** Main-thread figures during an upload: long tasks (> 50 ms) and the longest gap of a 10 ms heartbeat. */
export interface MainThreadFigures {
  longTasks: number[]
  maxGapMs: number
  /** Part-sized work on the page's thread: `Blob.slice` over 1 MiB, `xhr.send`/`fetch` of a Blob. */
  bigSlices: number
  blobSends: number
}

export async function startMainThreadProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const probe = { longTasks: [] as number[], maxGapMs: 0, bigSlices: 0, blobSends: 0, stop: () => {} }
    // In Chromium both are synchronous calls into the browser process: they must not happen here per part.
    const { slice } = Blob.prototype
    const { send } = XMLHttpRequest.prototype
    const { fetch } = window
    Blob.prototype.slice = function (this: Blob, ...args: Parameters<Blob['slice']>) {
      const part = slice.apply(this, args)
      if (part.size > 1024 * 1024) probe.bigSlices++
      return part
    }
    XMLHttpRequest.prototype.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
      if (body instanceof Blob) probe.blobSends++
      return send.call(this, body as XMLHttpRequestBodyInit | null)
    }
    window.fetch = (input, init) => {
      if (init?.body instanceof Blob) probe.blobSends++
      return fetch(input, init)
    }
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) probe.longTasks.push(Math.round(entry.duration))
    })
    observer.observe({ type: 'longtask' })
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      probe.maxGapMs = Math.max(probe.maxGapMs, now - last - 10)
      last = now
    }, 10)
    probe.stop = () => {
      observer.disconnect()
      clearInterval(timer)
      Blob.prototype.slice = slice
      XMLHttpRequest.prototype.send = send
      window.fetch = fetch
    }
    ;(window as unknown as { __probe: typeof probe }).__probe = probe
  })
}

export async function stopMainThreadProbe(page: Page): Promise<MainThreadFigures> {
  return page.evaluate(() => {
    performance.mark('valet-probe-stop')
    const probe = (window as unknown as { __probe: MainThreadFigures & { stop(): void } }).__probe
    probe.stop()
    return { longTasks: probe.longTasks, maxGapMs: Math.round(probe.maxGapMs), bigSlices: probe.bigSlices, blobSends: probe.blobSends }
  })
}

/** A main-thread task of the page's renderer, from a Chromium trace: wall time and CPU time, ms. */
export interface TracedTask {
  wallMs: number
  cpuMs: number
  /** Where Chromium posted the task from (`file:function`). */
  source: string
}

/**
 * Records the renderer's main-thread tasks with their CPU time (`tdur`), to tell a long task the
 * page's code caused from one where the thread only waited for a core (other processes' load).
 * Only tasks between this call and {@link stopMainThreadProbe} count: ending a trace makes work
 * of its own on that thread.
 */
export async function startTaskTrace(page: Page): Promise<() => Promise<TracedTask[]>> {
  const cdp: CDPSession = await page.context().newCDPSession(page)
  await cdp.send('Tracing.start', {
    transferMode: 'ReturnAsStream',
    traceConfig: { includedCategories: ['toplevel', 'blink.user_timing', '__metadata'], recordMode: 'recordContinuously' },
  })
  await page.evaluate(() => performance.mark('valet-trace-start'))
  return async () => {
    const complete = new Promise<string>((resolve) => cdp.once('Tracing.tracingComplete', (e) => resolve(e.stream as string)))
    await cdp.send('Tracing.end')
    const stream = await complete
    let text = ''
    for (;;) {
      const chunk = await cdp.send('IO.read', { handle: stream, size: 1 << 20 })
      text += chunk.base64Encoded ? Buffer.from(chunk.data, 'base64').toString('utf8') : chunk.data
      if (chunk.eof) break
    }
    await cdp.send('IO.close', { handle: stream })
    await cdp.detach()
    type Event = { name: string; ph: string; pid: number; tid: number; ts: number; dur?: number; tdur?: number; args?: { name?: string; src_file?: string; src_func?: string } }
    const parsed = JSON.parse(text) as Event[] | { traceEvents: Event[] }
    const events = Array.isArray(parsed) ? parsed : parsed.traceEvents
    const main = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`))
    const mark = (name: string) => events.find((e) => e.name === name)?.ts
    const from = mark('valet-trace-start') ?? Number.NEGATIVE_INFINITY
    const to = mark('valet-probe-stop') ?? Number.POSITIVE_INFINITY
    return events
      .filter((e) => e.ph === 'X' && e.name.endsWith('RunTask') && main.has(`${e.pid}:${e.tid}`) && e.ts >= from && e.ts <= to)
      .map((e) => ({ wallMs: (e.dur ?? 0) / 1000, cpuMs: (e.tdur ?? 0) / 1000, source: `${e.args?.src_file ?? '?'}:${e.args?.src_func ?? '?'}` }))
  }
}

/** What a round's trace says: the longest task, and the most CPU one task of the page took. */
export function summarizeTasks(tasks: TracedTask[]): { longest: TracedTask; mostCpuMs: number; gcCpuMs: number } {
  // Garbage collection steps (V8, Oilpan) are Chromium's to schedule, and the longtask API
  // leaves them out too: reported, not held against the page.
  const isGc = (t: TracedTask) => /v8\/src\/heap|cppgc/.test(t.source)
  return {
    longest: tasks.reduce((a, t) => (t.wallMs > a.wallMs ? t : a), { wallMs: 0, cpuMs: 0, source: '' }),
    mostCpuMs: Math.max(0, ...tasks.filter((t) => !isGc(t)).map((t) => t.cpuMs)),
    gcCpuMs: Math.max(0, ...tasks.filter(isGc).map((t) => t.cpuMs)),
  }
}
