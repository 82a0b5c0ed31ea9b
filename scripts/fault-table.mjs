#!/usr/bin/env node
// Renders the fault matrix rows the fault tests wrote (one JSON file per suite) as Markdown.
//
//   node scripts/fault-table.mjs                       # test-output/fault-matrix/*.json → stdout
//   node scripts/fault-table.mjs --soak                # test-output/fault-matrix-soak/*.json
//   node scripts/fault-table.mjs --write docs/reliability.md   # replaces the generated section
//
// The suites (test/client/faults.test.ts, test/client/key-faults.test.ts,
// test/browser/faults.test.ts) record one row per run: storage, client (node | chromium), where
// the proxy stood, the fault, faults injected, part PUTs, outcome, part bytes re-sent. Runs of one
// scenario (the soak repeats them) are summed into one line. A row whose run failed an assertion
// is shown as such: the tables only ever say what a run showed.
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const MiB = 2 ** 20

/** Reads every suite file in `dir`: `{ suite, finishedAt, soak, setup, rows }[]`, by suite name. */
export function readSuites(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
}

const BETWEEN = ['client and storage', 'client and key server']
const STORAGES = ['swift', 'azurite']
const CLIENTS = ['node', 'chromium']
const STORAGE_NAMES = { swift: 'Swift', azurite: 'Azurite' }
const CLIENT_NAMES = { node: 'Node', chromium: 'Chromium' }

const mib = (bytes) => {
  if (bytes === 0) return '0'
  const v = bytes / MiB
  return `${Number.isInteger(v) || v >= 10 ? v.toFixed(0) : v.toFixed(1)} MiB`
}

/** Runs of one scenario → one line: sums, and the outcomes with their counts. */
function aggregate(rows) {
  const groups = new Map()
  const faultOrder = new Map()
  for (const row of rows) {
    if (!faultOrder.has(row.fault)) faultOrder.set(row.fault, faultOrder.size)
    const id = JSON.stringify([row.between, row.storage, row.client, row.fault])
    const g = groups.get(id) ?? { ...row, runs: 0, faults: 0, partPuts: 0, bytesResent: 0, ms: 0, outcomes: new Map(), failedRuns: 0 }
    g.runs++
    g.faults += row.faults
    g.partPuts += row.partPuts
    g.bytesResent += row.bytesResent
    g.ms += row.ms
    if (!row.passed) g.failedRuns++
    const outcome = row.passed ? row.outcome : `ASSERTIONS FAILED (${row.outcome})`
    g.outcomes.set(outcome, (g.outcomes.get(outcome) ?? 0) + 1)
    groups.set(id, g)
  }
  const order = (g) => [BETWEEN.indexOf(g.between), faultOrder.get(g.fault), STORAGES.indexOf(g.storage), CLIENTS.indexOf(g.client)]
  return [...groups.values()].sort((a, b) => {
    const x = order(a)
    const y = order(b)
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i]
    return 0
  })
}

function outcomeText(g) {
  if (g.runs === 1) return [...g.outcomes.keys()][0]
  return [...g.outcomes].map(([outcome, n]) => `${n}/${g.runs} ${outcome}`).join('; ')
}

function table(groups) {
  const repeated = groups.some((g) => g.runs > 1)
  const head = repeated
    ? ['storage', 'client', 'fault', 'runs', 'faults injected', 'part PUTs', 'outcome', 'bytes re-sent']
    : ['storage', 'client', 'fault', 'faults injected', 'part PUTs', 'outcome', 'bytes re-sent']
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const g of groups) {
    const resent = g.bytesResent === 0 ? '0' : `${mib(g.bytesResent)}${g.faults > 0 ? ` (${mib(g.bytesResent / g.faults)} per fault)` : ''}`
    const cells = [STORAGE_NAMES[g.storage] ?? g.storage, CLIENT_NAMES[g.client] ?? g.client, g.fault]
    if (repeated) cells.push(String(g.runs))
    cells.push(String(g.faults), String(g.partPuts), outcomeText(g), resent)
    lines.push(`| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`)
  }
  return lines.join('\n')
}

function describeSetup(suites) {
  const setups = new Map()
  for (const s of suites) {
    const { parts, partSize, concurrency, repeat } = s.setup
    const text = `${parts} parts of ${mib(partSize)} (${mib(parts * partSize)}), ${concurrency} in flight${repeat > 1 ? `, each scenario run ${repeat} times` : ''}`
    setups.set(text, [...(setups.get(text) ?? []), s.suite])
  }
  if (setups.size === 1) return `${[...setups.keys()][0]}.`
  return [...setups].map(([text, names]) => `${names.join(', ')}: ${text}`).join('; ') + '.'
}

/** The Markdown for the suites in `dir`. */
export function render(suites, { soak = false } = {}) {
  if (suites.length === 0) return '_No fault matrix rows: run the fault tests first._'
  const rows = suites.flatMap((s) => s.rows)
  const times = suites.map((s) => s.finishedAt).sort()
  const day = (iso) => iso.slice(0, 10)
  const when = day(times[0]) === day(times.at(-1)) ? day(times[0]) : `${day(times[0])} – ${day(times.at(-1))}`
  const runs = rows.length
  const failed = rows.filter((r) => !r.passed).length
  const totals = {
    faults: rows.reduce((a, r) => a + r.faults, 0),
    puts: rows.reduce((a, r) => a + r.partPuts, 0),
    bytes: rows.reduce((a, r) => a + r.bytesResent, 0),
    ms: rows.reduce((a, r) => a + r.ms, 0),
  }
  const out = [
    `_Generated by \`node scripts/fault-table.mjs${soak ? ' --soak' : ''}\` from a run of ${soak ? '`pnpm test:soak`' : 'the fault suites'} on ${when} ` +
      `(${suites.map((s) => `\`${s.suite}\``).join(', ')}); do not edit by hand._`,
    '',
    `${describeSetup(suites)} ${runs} runs, ${totals.faults} faults injected, ${totals.puts} part PUTs, ` +
      `${mib(totals.bytes)} re-sent, ${(totals.ms / 60_000).toFixed(1)} min of uploads; ` +
      `${failed === 0 ? 'every run passed its assertions' : `**${failed} runs failed their assertions**`}.`,
  ]
  for (const between of BETWEEN) {
    const groups = aggregate(rows.filter((r) => r.between === between))
    if (groups.length === 0) continue
    out.push('', `Between the ${between.replace('client and ', 'client and the ')}:`, '', table(groups))
  }
  return out.join('\n')
}

/** Replaces what lies between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in `file`. */
export function replaceSection(text, name, body) {
  const begin = `<!-- ${name}:begin -->`
  const end = `<!-- ${name}:end -->`
  const i = text.indexOf(begin)
  const j = text.indexOf(end)
  if (i < 0 || j < i) throw new Error(`markers ${begin} … ${end} not found`)
  return `${text.slice(0, i + begin.length)}\n${body}\n${text.slice(j)}`
}

function main() {
  const { values } = parseArgs({ options: { soak: { type: 'boolean' }, dir: { type: 'string' }, write: { type: 'string' } } })
  const soak = values.soak === true
  const dir = resolve(values.dir ?? join(ROOT, 'test-output', soak ? 'fault-matrix-soak' : 'fault-matrix'))
  const suites = readSuites(dir)
  if (values.write !== undefined && suites.length === 0) {
    console.error(`no rows in ${dir}: run the fault tests first`)
    process.exit(1)
  }
  const markdown = render(suites, { soak })
  if (values.write === undefined) {
    console.log(markdown)
    return
  }
  const file = resolve(values.write)
  writeFileSync(file, replaceSection(readFileSync(file, 'utf8'), soak ? 'fault-matrix-soak' : 'fault-matrix', markdown))
  console.log(`${file}: ${soak ? 'soak ' : ''}fault matrix section replaced (${suites.length} suites)`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main()
