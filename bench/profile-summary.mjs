#!/usr/bin/env node
// Where a child's CPU went, from the .cpuprofile files `pnpm bench -- --profile` leaves behind:
// self time by function and by origin (our client, axios, node internals, GC, idle).
//
//   node bench/profile-summary.mjs /tmp/valet-bench-profiles-*/valet-8-512MiB-r1.cpuprofile [--top 25]
import fs from 'node:fs'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } })
if (positionals.length === 0) {
  console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile... [--top N]')
  process.exit(2)
}

function origin(url, name) {
  if (name === '(garbage collector)') return 'GC'
  if (name === '(idle)') return 'idle'
  if (name === '(program)') return 'program (native, outside JS)'
  if (!url) return `native: ${name}`
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1]
  if (url.includes('/packages/client/')) return '@valet/client'
  if (url.startsWith('node:')) return 'node internals'
  return url.replace(/^file:\/\//, '')
}

for (const file of positionals) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map()
  // Samples are taken at intervals that vary: weigh each by its own delta.
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const byFn = new Map()
  const byOrigin = new Map()
  for (const [id, us] of self) {
    const { callFrame: f } = byId.get(id)
    const fn = `${f.functionName || '(anonymous)'} ${f.url ? `${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}` : ''}`.trim()
    byFn.set(fn, (byFn.get(fn) ?? 0) + us)
    const o = origin(f.url, f.functionName)
    byOrigin.set(o, (byOrigin.get(o) ?? 0) + us)
  }
  const top = Number(values.top)
  const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms`
  console.log(`\n${file}: ${(total / 1000).toFixed(0)} ms profiled`)
  console.log('\n  by origin')
  for (const [o, us] of [...byOrigin].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${o}`)
  console.log('\n  by function (self time)')
  for (const [fn, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${fn}`)
}
