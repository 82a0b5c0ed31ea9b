/**
 * What an interrupted `valet upload` run already finished, so running the same command again
 * does not upload those files a second time. Resume state covers uploads in progress; once a
 * file completes its state is gone, and without this a rerun after a kill would store it again
 * as a new object.
 *
 * One JSON line per finished file, appended as each completes (`<stateDir>/run-<id>.jsonl`, the
 * id a hash of the endpoint and the run's files). A run that ends with every file complete
 * removes its journal: the same command run later uploads again, as it always did. A file whose
 * size or modification time changed since is uploaded again.
 */
import { createHash } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { FileEntry } from './expand-paths.js'

/** A finished file as the journal keeps it: enough to report it again without uploading it. */
export interface JournalEntry<L> {
  path: string
  size: number
  mtimeMs: number
  line: L
}

export class RunJournal<L> {
  private constructor(
    readonly file: string,
    private readonly done: Map<string, JournalEntry<L>>,
  ) {}

  /** The journal of this endpoint and set of files, with what an earlier, interrupted run finished. */
  static async open<L>(stateDir: string, endpoint: string, files: FileEntry[]): Promise<RunJournal<L>> {
    const id = createHash('sha256')
      .update(`${endpoint}\n${files.map((f) => f.path).sort().join('\n')}`)
      .digest('hex')
      .slice(0, 32)
    await mkdir(stateDir, { recursive: true })
    const file = join(stateDir, `run-${id}.jsonl`)
    const done = new Map<string, JournalEntry<L>>()
    let text = ''
    try {
      text = await readFile(file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    for (const raw of text.split('\n')) {
      // A line cut short by a kill is skipped: that file is simply uploaded again.
      try {
        const entry = JSON.parse(raw) as JournalEntry<L>
        if (typeof entry?.path === 'string' && typeof entry.size === 'number' && typeof entry.mtimeMs === 'number') done.set(entry.path, entry)
      } catch {
        continue
      }
    }
    return new RunJournal(file, done)
  }

  /** The earlier run's line for `file`, if it finished this very file (same size and time). */
  finished(file: FileEntry): L | undefined {
    const entry = this.done.get(file.path)
    return entry && entry.size === file.size && entry.mtimeMs === file.mtimeMs ? entry.line : undefined
  }

  /**
   * Records a finished file before it is reported, so a kill right after never loses it
   * (synchronous for that order; one short line per file).
   */
  record(file: FileEntry, line: L): void {
    const entry: JournalEntry<L> = { path: file.path, size: file.size, mtimeMs: file.mtimeMs, line }
    this.done.set(file.path, entry)
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`)
  }

  /** The run finished every file: nothing to skip next time. */
  async remove(): Promise<void> {
    await rm(this.file, { force: true })
  }
}
