/** scripts/fault-table.mjs: rows in, Markdown out; repeated runs summed; a failed run never reads as a pass. */
import { describe, expect, it } from 'vitest'
import { render, replaceSection, type SuiteFile } from '../../scripts/fault-table.mjs'

const MiB = 2 ** 20
const row = (over: Partial<SuiteFile['rows'][number]>): SuiteFile['rows'][number] => ({
  storage: 'swift',
  client: 'node',
  between: 'client and storage',
  fault: '500',
  faults: 3,
  partPuts: 7,
  parts: 4,
  outcome: 'complete, sha256 ok',
  bytesResent: 15 * MiB,
  ms: 2000,
  passed: true,
  ...over,
})
const suite = (name: string, rows: SuiteFile['rows'], repeat = 1): SuiteFile => ({
  suite: name,
  finishedAt: '2026-11-29T15:00:00.000Z',
  soak: false,
  setup: { partSize: 5 * MiB, parts: 4, concurrency: 3, repeat },
  rows,
})

describe('fault-table', () => {
  it('renders one line per scenario, storage faults first, Node before Chromium, with the run date and setup', () => {
    const md = render([
      suite('chromium-storage', [row({ client: 'chromium' })]),
      suite('node-key-server', [row({ between: 'client and key server', fault: 'down 5 s', faults: 1, partPuts: 4, bytesResent: 0 })]),
      suite('node-storage', [row({ fault: 'connection reset mid-body', bytesResent: 7.5 * MiB }), row({})]),
    ])
    expect(md).toContain('on 2026-11-29')
    expect(md).toContain('4 parts of 5 MiB (20 MiB), 3 in flight.')
    expect(md).toContain('every run passed its assertions')
    const lines = md.split('\n').filter((l) => l.startsWith('| Swift'))
    expect(lines).toEqual([
      '| Swift | Node | 500 | 3 | 7 | complete, sha256 ok | 15 MiB (5 MiB per fault) |',
      '| Swift | Chromium | 500 | 3 | 7 | complete, sha256 ok | 15 MiB (5 MiB per fault) |',
      '| Swift | Node | connection reset mid-body | 3 | 7 | complete, sha256 ok | 7.5 MiB (2.5 MiB per fault) |',
      '| Swift | Node | down 5 s | 1 | 4 | complete, sha256 ok | 0 |',
    ])
    expect(md.indexOf('Between the client and the storage')).toBeLessThan(md.indexOf('Between the client and the key server'))
  })

  it('sums repeated runs and counts outcomes; a run that failed its assertions says so', () => {
    const md = render([suite('node-storage', [row({}), row({}), row({ passed: false, outcome: 'complete' })], 3)])
    expect(md).toContain('each scenario run 3 times')
    expect(md).toContain('**1 runs failed their assertions**')
    expect(md).toContain('| Swift | Node | 500 | 3 | 9 | 21 | 2/3 complete, sha256 ok; 1/3 ASSERTIONS FAILED (complete) | 45 MiB (5 MiB per fault) |')
  })

  it('replaces only what lies between its markers', () => {
    const doc = 'a\n<!-- fault-matrix:begin -->\nold\n<!-- fault-matrix:end -->\nb\n<!-- fault-matrix-soak:begin -->\nsoak\n<!-- fault-matrix-soak:end -->\n'
    expect(replaceSection(doc, 'fault-matrix', 'new')).toBe(doc.replace('old', 'new'))
    expect(replaceSection(doc, 'fault-matrix-soak', 'x')).toBe(doc.replace('soak\n', 'x\n'))
    expect(() => replaceSection('no markers', 'fault-matrix', 'x')).toThrow(/markers/)
  })
})
