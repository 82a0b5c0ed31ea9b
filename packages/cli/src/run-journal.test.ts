import { mkdtemp, readdir, rm, writeFile, appendFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { FileEntry } from './expand-paths.js'
import { RunJournal } from './run-journal.js'

const file = (name: string, size = 10, mtimeMs = 1): FileEntry => ({ path: `/data/${name}`, display: name, name, size, mtimeMs })

describe('RunJournal', () => {
  let dir: string
  beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'journal-'))))
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('a rerun of the same command sees what the interrupted run finished, for unchanged files only', async () => {
    const files = [file('a'), file('b'), file('c')]
    const first = await RunJournal.open<{ key: string }>(dir, 'http://k/api', files)
    first.record(files[0]!, { key: 'k/a' })
    first.record(files[1]!, { key: 'k/b' })
    const again = await RunJournal.open<{ key: string }>(dir, 'http://k/api', files)
    expect(again.finished(files[0]!)).toEqual({ key: 'k/a' })
    expect(again.finished(files[2]!)).toBeUndefined()
    // Edited since: sent again.
    expect(again.finished(file('b', 11))).toBeUndefined()
    expect(again.finished(file('b', 10, 2))).toBeUndefined()
  })

  it('is per endpoint and set of files, skips a line cut by a kill, and is removed after a complete run', async () => {
    const files = [file('a'), file('b')]
    const j = await RunJournal.open<{ key: string }>(dir, 'http://k/api', files)
    j.record(files[0]!, { key: 'k/a' })
    await appendFile(j.file, '{"path":"/data/b","si')
    expect((await RunJournal.open(dir, 'http://other/api', files)).finished(files[0]!)).toBeUndefined()
    expect((await RunJournal.open(dir, 'http://k/api', [files[0]!])).finished(files[0]!)).toBeUndefined()
    const again = await RunJournal.open<{ key: string }>(dir, 'http://k/api', [...files].reverse())
    expect(again.finished(files[0]!)).toEqual({ key: 'k/a' })
    expect(again.finished(files[1]!)).toBeUndefined()
    await again.remove()
    expect(await readdir(dir)).toEqual([])
    await writeFile(join(dir, 'x'), '')
  })
})
