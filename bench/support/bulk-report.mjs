// Tables and targets of the bulk scenario. As in report.mjs, ratios are taken within a round
// (same moment, same noise on a shared box) and then the median.
import { BULK_TARGETS, BULK_VARIANTS } from './bulk-variants.mjs'
import { median } from './report.mjs'

const MiB = 1024 * 1024
const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '—')
const sum = (o) => Object.values(o ?? {}).reduce((a, n) => a + n, 0)
const keyCalls = (k) => k.creates + k.signCalls + k.completes + k.other

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}

function ratios(records, set, variant, field = 'filesPerSec') {
  const ok = (r) => r.set === set && !r.error
  const out = []
  for (const a of records.filter((r) => ok(r) && r.variant === variant)) {
    const b = records.find((r) => ok(r) && r.variant === 'sdk' && r.round === a.round)
    if (b && a[field] && b[field]) out.push(a[field] / b[field])
  }
  return out
}

/** `PUT 1.00, POST 2.00` per file, from counts summed over runs. */
function perFile(runs, pick) {
  const total = {}
  for (const r of runs) for (const [m, n] of Object.entries(pick(r) ?? {})) total[m] = (total[m] ?? 0) + n
  const files = runs.reduce((a, r) => a + r.files, 0)
  const all = sum(total) / files
  const parts = Object.entries(total).map(([m, n]) => `${m} ${fmt(n / files, 2)}`).join(', ')
  return { all, text: files ? `${fmt(all, 2)}${parts ? ` (${parts})` : ''}` : '—' }
}

export function bulkRows(records) {
  const rows = []
  for (const set of [...new Set(records.map((r) => r.set))]) {
    for (const variant of [...new Set(records.filter((r) => r.set === set).map((r) => r.variant))]) {
      const mine = records.filter((r) => r.set === set && r.variant === variant)
      const ok = mine.filter((r) => !r.error)
      const files = ok.reduce((a, r) => a + r.files, 0)
      const k = ok.reduce((a, r) => ({ creates: a.creates + r.keyCalls.creates, signs: a.signs + r.keyCalls.signCalls, completes: a.completes + r.keyCalls.completes, other: a.other + r.keyCalls.other }), { creates: 0, signs: 0, completes: 0, other: 0 })
      const serverCalls = {}
      for (const r of ok) for (const [name, n] of Object.entries(r.keyCalls.storageCalls)) serverCalls[name] = (serverCalls[name] ?? 0) + n
      rows.push({
        set,
        variant,
        label: BULK_VARIANTS[variant].label,
        runs: ok.length,
        failed: mine.length - ok.length,
        filesPerSec: median(ok.map((r) => r.filesPerSec)),
        uploadFilesPerSec: median(ok.map((r) => r.uploadFilesPerSec).filter(Boolean)),
        ratio: variant === 'sdk' ? 1 : median(ratios(records, set, variant)),
        ratioRange: variant === 'sdk' ? '' : ratios(records, set, variant).map((x) => fmt(x, 2)).join(', '),
        keyCalls: variant === 'sdk' || !files ? undefined : { all: keyCalls({ ...k, signCalls: k.signs }) / files, ...Object.fromEntries(Object.entries(k).map(([n, v]) => [n, v / files])) },
        client: perFile(ok, (r) => r.storage.client),
        server: perFile(ok, (r) => r.storage.server),
        serverCalls: files ? Object.entries(serverCalls).map(([n, v]) => `${n} ${fmt(v / files, 2)}`).join(', ') : '',
        // Time one of the C slots spends per file, and how much of it is each key call (server side).
        slotMs: median(ok.map((r) => (r.wallMs * r.concurrency) / r.files)),
        keyMs: ['creates', 'signCalls', 'completes'].map((route) => median(ok.flatMap((r) => r.keyCalls.ms?.[route] ?? []))),
        peakRss: Math.max(...ok.map((r) => r.maxRss ?? 0)),
        cpuSeconds: median(ok.map((r) => r.cpuMs / 1000).filter(Number.isFinite)),
        verified: ok.length && ok.every((r) => r.verified) ? 'all listed, sizes ok' : 'NO',
      })
    }
  }
  return rows
}

export function renderBulk(records, opts) {
  const rounds = table(
    ['set', 'round', 'variant', 's (process)', 'files/s', 'files/s w/o start-up', 'key calls / file', 'storage req / file (client + server)', 'peak RSS', 'check'],
    records.map((r) =>
      r.error && !r.storage
        ? [r.set, r.round + 1, BULK_VARIANTS[r.variant].label, 'ERROR', '', '', '', '', '', r.error.slice(0, 80)]
        : [
            r.set,
            r.round + 1,
            BULK_VARIANTS[r.variant].label,
            fmt(r.wallMs / 1000, 2),
            fmt(r.filesPerSec, 1),
            fmt(r.uploadFilesPerSec, 1),
            r.variant === 'sdk' ? '—' : fmt(keyCalls(r.keyCalls) / r.files, 2),
            `${fmt(sum(r.storage.client) / r.files, 2)} + ${fmt(sum(r.storage.server) / r.files, 2)}`,
            r.maxRss ? `${fmt(r.maxRss / MiB)} MiB` : '—',
            r.error ? r.error.slice(0, 80) : 'ok',
          ],
    ),
  )
  const rows = bulkRows(records)
  const summary = table(
    ['set', 'variant', 'runs', 'files/s', '× SDK (rounds)', 'files/s w/o start-up', 'ms / file / slot', 'key calls / file (create, sign, complete)', 'key call ms (median)', 'client storage req / file', 'key-server storage req / file', 'peak RSS', 'verified'],
    rows.map((r) => [
      r.set,
      r.label,
      r.failed ? `${r.runs} (+${r.failed} failed)` : r.runs,
      fmt(r.filesPerSec, 1),
      r.variant === 'sdk' ? '1.00' : `${fmt(r.ratio, 2)} (${r.ratioRange})`,
      fmt(r.uploadFilesPerSec, 1),
      fmt(r.slotMs),
      r.keyCalls ? `${fmt(r.keyCalls.all, 2)} (${fmt(r.keyCalls.creates, 2)}, ${fmt(r.keyCalls.signs, 2)}, ${fmt(r.keyCalls.completes, 2)})` : '—',
      r.keyCalls ? r.keyMs.map((x) => fmt(x)).join(' / ') : '—',
      r.client.text,
      r.server.text,
      r.peakRss ? `${fmt(r.peakRss / MiB)} MiB` : '—',
      r.verified,
    ]),
  )
  const calls = rows.filter((r) => r.serverCalls).map((r) => `  ${r.set}, ${r.label}: ${r.serverCalls}`)
  return [
    `### Bulk, per run (files/s: process spawn to exit; w/o start-up: the child's own clock after loading modules)\n`,
    rounds,
    `\n### Bulk summary (${opts.bulkConcurrency} files in flight; medians over rounds; × SDK = median of per-round ratios)\n`,
    summary,
    ...(calls.length ? ['\nKey-server provider calls per file (by method, counted in the key server):', ...calls] : []),
  ].join('\n')
}

/** The issue's bulk targets on whatever sets ran (a set other than the target's size says so). */
export function bulkTargets(records) {
  const out = []
  for (const r of bulkRows(records)) {
    if (r.variant === 'sdk' || !Number.isFinite(r.ratio)) continue
    const target = BULK_TARGETS[records.find((x) => x.set === r.set).size / 1024]
    const files = records.find((x) => x.set === r.set).files
    if (!target || BULK_VARIANTS[r.variant].how !== 'cli') {
      out.push({ name: `${r.label} vs SDK PutObject loop (${r.set})`, value: `${fmt(r.ratio, 2)}×` })
      continue
    }
    const note = files === target.files ? '' : `; the target is for ${target.files} files`
    out.push({ name: `${r.label} ≥ ${target.ratio.toFixed(2)}× SDK PutObject loop (${r.set}${note})`, value: `${fmt(r.ratio, 2)}×`, pass: r.ratio >= target.ratio })
  }
  return out
}
