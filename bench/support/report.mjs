// Turns per-run records into the summary table and the target verdicts. Rounds alternate the
// variants, so ratios are taken within a round (same moment, same noise) and then the median.
const MiB = 1024 * 1024
const RSS_FIXED = 80 * MiB

export const median = (xs) => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '—')
export const mib = (bytes) => (Number.isFinite(bytes) ? `${(bytes / MiB).toFixed(0)} MiB` : '—')

export function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}

/** Per-round ratios of `variant` to `base` in one set: only rounds where both succeeded. */
export function roundRatios(records, set, variant, base) {
  const ok = (r) => r.set === set && !r.error
  const out = []
  for (const a of records.filter((r) => ok(r) && r.variant === variant)) {
    const b = records.find((r) => ok(r) && r.variant === base && r.round === a.round)
    if (b) out.push(a.mibps / b.mibps)
  }
  return out
}

/** One row per (set, variant), in run order. */
export function summarize(records, variants) {
  const rows = []
  const seen = new Set()
  for (const { set, variant } of records) {
    const id = `${set}\0${variant}`
    if (seen.has(id)) continue
    seen.add(id)
    const mine = records.filter((r) => r.set === set && r.variant === variant)
    const ok = mine.filter((r) => !r.error)
    const spec = variants[variant]
    const row = {
      set,
      variant,
      label: spec.label,
      runs: ok.length,
      failed: mine.length - ok.length,
      mibps: median(ok.map((r) => r.mibps)),
      ratioRaw: variant === 'raw' ? 1 : median(roundRatios(records, set, variant, 'raw')),
      peakRss: Math.max(...ok.map((r) => r.maxRss)),
      cpuSeconds: median(ok.map((r) => r.cpuMs / 1000)),
      loopMaxMs: Math.max(...ok.map((r) => r.loopDelayMaxMs)),
      verified:
        ok.length === 0 || !ok.every((r) => r.sizeOk) || ok.some((r) => r.shaOk === false)
          ? 'NO'
          : ok.some((r) => r.shaOk === true)
            ? 'size+sha256'
            : 'size',
    }
    if (spec.kind === 'valet') {
      const calls = ok.reduce((a, r) => a + r.keyCalls.signCalls, 0)
      const keys = ok.reduce((a, r) => a + r.keyCalls.keysSigned, 0)
      const parts = ok.reduce((a, r) => a + r.partCount, 0)
      row.signCallsPerPart = calls / parts
      row.keysPerPart = keys / parts
      row.partsPerRun = ok[0]?.partCount
      const keyCalls = ok.reduce((a, r) => a + r.keyCalls.creates + r.keyCalls.signCalls + r.keyCalls.completes + r.keyCalls.other, 0)
      row.keyCallsPerUpload = ok.length ? keyCalls / ok.length : undefined
      const storageCalls = {}
      for (const r of ok) for (const [name, n] of Object.entries(r.keyCalls.storageCalls ?? {})) storageCalls[name] = (storageCalls[name] ?? 0) + n
      row.storageCallsPerUpload = ok.length ? Object.values(storageCalls).reduce((a, n) => a + n, 0) / ok.length : undefined
      row.storageCalls = Object.entries(storageCalls).map(([name, n]) => `${name} ${fmt(n / ok.length, 1)}`).join(', ')
      // The budget: a fixed 80 MiB plus the parts in flight, at the plan the server chose.
      row.partSize = ok[0]?.partSize
      row.concurrency = ok[0]?.concurrency
      if (ok.length) row.rssBound = RSS_FIXED + row.concurrency * row.partSize
    }
    rows.push(row)
  }
  return rows
}

export function renderSummary(rows) {
  const header = ['file', 'variant', 'runs', 'median MiB/s', '× raw', 'peak RSS', 'client CPU s', 'max event-loop delay', 'POST /parts per part', 'key calls / upload', 'server storage calls / upload', 'verified']
  return table(
    header,
    rows.map((r) => [
      r.set,
      r.label,
      r.failed ? `${r.runs} (+${r.failed} failed)` : r.runs,
      fmt(r.mibps),
      fmt(r.ratioRaw, 2),
      mib(r.peakRss),
      fmt(r.cpuSeconds, 1),
      `${fmt(r.loopMaxMs)} ms`,
      r.signCallsPerPart === undefined
        ? '—'
        : `${fmt(r.signCallsPerPart, 3)} (${r.partsPerRun} parts, ${fmt(r.keysPerPart, 2)} keys/part)`,
      r.keyCallsPerUpload === undefined ? '—' : fmt(r.keyCallsPerUpload, 1),
      r.storageCallsPerUpload === undefined ? '—' : `${fmt(r.storageCallsPerUpload, 1)} (${r.storageCalls})`,
      r.verified,
    ]),
  )
}

export function renderRounds(records, variants) {
  const header = ['file', 'round', 'variant', 'MiB/s', 's', 'peak RSS', 'peak ArrayBuffers', 'CPU s', 'loop p99 / max', 'check']
  return table(
    header,
    records.map((r) =>
      r.error
        ? [r.set, r.round + 1, variants[r.variant].label, 'ERROR', '', '', '', '', '', r.error.split('\n')[0].slice(0, 80)]
        : [
            r.set,
            r.round + 1,
            variants[r.variant].label,
            fmt(r.mibps),
            fmt(r.ms / 1000, 2),
            mib(r.maxRss),
            mib(r.peakArrayBuffers),
            fmt(r.cpuMs / 1000, 1),
            `${fmt(r.loopDelayP99Ms)} / ${fmt(r.loopDelayMaxMs)} ms`,
            [r.sizeOk ? 'size' : 'SIZE BAD', r.shaOk === undefined ? '' : r.shaOk ? 'sha256' : 'SHA BAD'].filter(Boolean).join('+'),
          ],
    ),
  )
}

/** The targets, evaluated on what ran. A report, never a gate. */
export function targets(records, rows, { mainSet, valet = 'valet-8', lib = 'lib-storage' }) {
  const out = []
  const row = (set, variant) => rows.find((r) => r.set === set && r.variant === variant)
  // Issue 15: the defaults on both sides (valet's part size sized to the file by the server).
  const d = row(mainSet, 'valet-default')
  if (d && row(mainSet, 'raw')) {
    out.push({ name: `valet defaults (${mib(d.partSize)} × ${d.concurrency}) ≥ 0.80× raw (${mainSet}, MD5 on)`, value: `${fmt(d.ratioRaw, 2)}×`, pass: d.ratioRaw >= 0.8 })
  }
  if (d && row(mainSet, 'lib-storage-default')) {
    const r = median(roundRatios(records, mainSet, 'valet-default', 'lib-storage-default'))
    out.push({ name: `valet defaults ≥ 1.5× lib-storage defaults (${mainSet})`, value: `${fmt(r, 2)}×`, pass: r >= 1.5 })
  }
  const v = row(mainSet, valet)
  if (v && row(mainSet, 'raw')) {
    out.push({ name: `${v.label} ≥ 0.90× raw (${mainSet}, MD5 on)`, value: `${fmt(v.ratioRaw, 2)}×`, pass: v.ratioRaw >= 0.9 })
  }
  if (v && row(mainSet, lib)) {
    const r = median(roundRatios(records, mainSet, valet, lib))
    out.push({ name: `${v.label} ≥ 1.5× lib-storage (${mainSet})`, value: `${fmt(r, 2)}×`, pass: r >= 1.5 })
  }
  // Context, not targets: how far multipart on this store can go at all, and what valet adds.
  const lean = row(mainSet, 'mpu-md5')
  if (lean && row(mainSet, 'raw')) {
    out.push({ name: `${lean.label} (reference: this store's multipart ceiling with MD5) vs raw`, value: `${fmt(lean.ratioRaw, 2)}×` })
  }
  if (v && lean) {
    const r = median(roundRatios(records, mainSet, valet, 'mpu-md5'))
    out.push({ name: `${v.label} vs ${lean.label} (client overhead)`, value: `${fmt(r, 2)}×` })
  }
  for (const r of rows.filter((x) => x.rssBound !== undefined)) {
    out.push({
      name: `${r.label} peak RSS ≤ 80 MiB + ${r.concurrency} × ${mib(r.partSize)} = ${mib(r.rssBound)} (${r.set})`,
      value: mib(r.peakRss),
      pass: r.peakRss <= r.rssBound,
    })
  }
  return out
}

export function renderTargets(list) {
  return list.map((t) => `${t.pass === undefined ? 'INFO' : t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${t.value}`).join('\n')
}

// Every client here talks to something other than storage at least twice: create first, complete
// last. Valet's sign calls sit in between.
function requests(ms) {
  if (ms.length < 2) return ms.join(', ')
  const middle = ms.slice(1, -1)
  const sign = middle.length ? ` · ${middle.length} sign, median ${fmt(median(middle))} ms` : ''
  return `create ${ms[0]} ms${sign} · complete ${ms[ms.length - 1]} ms`
}

/** One row per traced upload: were the PUT slots busy, and where did the time go? */
export function renderTraces(records, variants) {
  const traced = records.filter((r) => r.trace)
  const header = ['file', 'round', 'variant', 's', 'first PUT', '0 PUTs in flight', 'all slots busy', 'MD5 total / longest call', 'create · key calls · complete']
  return table(
    header,
    traced.map((r) => {
      const t = r.trace
      const total = t.msByPutsInFlight.reduce((a, b) => a + b, 0)
      const share = (ms) => `${((100 * ms) / total).toFixed(0)}%`
      const slots = r.concurrency ?? variants[r.variant].concurrency ?? 4
      const busy = t.msByPutsInFlight.slice(slots).reduce((a, b) => a + b, 0)
      return [
        r.set,
        r.round + 1,
        variants[r.variant].label,
        fmt(r.ms / 1000, 2),
        `${fmt(t.firstPutMs)} ms`,
        `${share(t.msByPutsInFlight[0] ?? 0)} (${fmt((t.msByPutsInFlight[0] ?? 0) / 1000, 2)} s)`,
        share(busy),
        `${fmt(t.md5TotalMs)} ms / ${fmt(t.md5MaxMs)} ms`,
        requests(t.keyCallMs),
      ]
    }),
  )
}
