/** `valet download`: objects by key to files, every byte verified, resumable, one JSON line or one bar each. */
import { mkdir, stat } from 'node:fs/promises'
import { createDownloader, isValetError } from '@valet/client'
import { UsageError } from './cli-args.js'
import { EXIT, processIo, type CliIo } from './cli-io.js'
import { catchInterrupt } from './interrupt.js'
import { DOWNLOAD_HELP, parseDownloadArgs, type DownloadArgs, type DownloadTarget } from './download-args.js'
import { DownloadRenderer, type DownloadProgressView } from './download-renderer.js'
import { modeFor } from './progress-renderer.js'

/** One line of `--json` output for a file downloaded and verified. */
export interface DownloadedLine {
  key: string
  /** Absolute path of the file written. */
  path: string
  size: number
  etag: string
  /** `Content-Type` as stored. */
  type: string
  /** How every byte was proven: `parts`, `md5`, or `size-etag` (storage recorded no checksum). */
  verified: 'parts' | 'md5' | 'size-etag'
  /** Bytes an earlier, interrupted run had already fetched (not fetched again). */
  bytesResumed: number
}

/** One line of `--json` output for a file that did not download (as `valet upload` prints failures). */
export interface DownloadFailedLine {
  key: string
  /** Absolute path the file would have been written to. */
  path: string
  error: { code: string; message: string }
}

// What the command uses of @valet/client's downloader, spelled out so it can be faked in tests.
interface CliDownloadResult {
  key: string
  size: number
  etag: string
  type: string
  path?: string
  verified: DownloadedLine['verified']
}
interface CliDownload {
  readonly done: Promise<CliDownloadResult>
  pause(): void
  resume(): void
  abort(): void
}
export interface CliDownloaderOptions {
  endpoint: string
  concurrency: number
  headers: Record<string, string>
  resume: true
  stateDir?: string
  retries: number
  fsync: boolean
}
export interface CliDownloader {
  download(key: string, destination: string, options: { onProgress: (p: DownloadProgressView) => void; concurrency: number }): CliDownload
}
export type DownloaderFactory = (options: CliDownloaderOptions) => CliDownloader

export interface DownloadCommandDeps {
  /** @default `createDownloader` of @valet/client (Node entry) */
  createDownloader?: DownloaderFactory
}

function describeError(error: unknown): { code: string; message: string } {
  if (isValetError(error)) return { code: error.code, message: error.message }
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error) }
}

/**
 * How many files run at once and with how many GETs each, so that at most `concurrency` range
 * GETs are in flight in total: one file gets them all, many share them (a small object is one
 * range anyway).
 */
export function shareConcurrency(files: number, concurrency: number): { filesAtOnce: number; perFile: number } {
  const filesAtOnce = Math.max(1, Math.min(files, concurrency))
  return { filesAtOnce, perFile: Math.max(1, Math.floor(concurrency / filesAtOnce)) }
}

/**
 * Runs `valet download` and resolves with the exit code: 0 every file complete and verified,
 * 1 any failed, 2 usage error, 130 interrupted (downloads paused, staging and state kept).
 *
 * @example
 * ```ts
 * const code = await downloadCommand(['dev/0b6f…/a.bin', '--endpoint', 'http://127.0.0.1:3000/api/valet', '--out', 'got', '--json'])
 * ```
 */
export async function downloadCommand(argv: string[], io: CliIo = processIo(), deps: DownloadCommandDeps = {}): Promise<number> {
  const args = parseDownloadArgs(argv, io.cwd)
  if (args === 'help') {
    io.stdout.write(`${DOWNLOAD_HELP}\n`)
    return EXIT.ok
  }
  const existing = await stat(args.out).catch(() => undefined)
  if (existing !== undefined && !existing.isDirectory()) throw new UsageError(`--out ${args.out} is not a folder`, 'download')
  try {
    await mkdir(args.out, { recursive: true })
  } catch (error) {
    throw new UsageError(`--out ${args.out} cannot be created: ${(error as Error).message}`, 'download')
  }
  let downloader: CliDownloader
  try {
    downloader = (deps.createDownloader ?? createDownloader)({
      endpoint: args.endpoint,
      concurrency: args.concurrency,
      headers: args.headers,
      resume: true,
      retries: args.retries,
      fsync: args.fsync,
      ...(args.stateDir === undefined ? {} : { stateDir: args.stateDir }),
    })
  } catch (error) {
    if (isValetError(error) && error.code === 'invalid_option') throw new UsageError(error.message, 'download')
    throw error
  }
  return runDownloads(downloader, args, io)
}

async function runDownloads(downloader: CliDownloader, args: DownloadArgs, io: CliIo): Promise<number> {
  const human = args.json ? io.stderr : io.stdout
  const mode = modeFor(human, io.env)
  const renderer = new DownloadRenderer(args.targets, { output: human, mode: args.json && mode === 'plain' ? 'silent' : mode })
  const json = (line: DownloadedLine | DownloadFailedLine): void => {
    if (args.json) io.stdout.write(`${JSON.stringify(line)}\n`)
  }
  const { filesAtOnce, perFile } = shareConcurrency(args.targets.length, args.concurrency)
  /** Downloads started and not yet ended: what an interrupt pauses. */
  const active = new Map<DownloadTarget, CliDownload>()
  let failed = 0
  // Paused, not aborted: what was fetched and verified stays, with its state, for the next run.
  const interrupt = catchInterrupt(() => {
    for (const [target, download] of active) {
      download.pause()
      json({ key: target.key, path: target.path, error: { code: 'paused', message: 'interrupted; run the same command again to resume' } })
    }
    const where = args.stateDir ?? 'the default state directory, ~/.valet/downloads'
    renderer.note(`interrupted: ${active.size} download(s) paused; run the same command again (state in ${where}) to resume`)
  })

  const one = async (target: DownloadTarget): Promise<void> => {
    renderer.start(target)
    let last: DownloadProgressView | undefined
    try {
      const download = downloader.download(target.key, target.path, {
        concurrency: perFile,
        onProgress: (p) => {
          last = p
          if (interrupt.code === undefined) renderer.progress(target, p)
        },
      })
      active.set(target, download)
      const result = await download.done
      active.delete(target)
      if (interrupt.code !== undefined) return
      const line: DownloadedLine = {
        key: result.key,
        path: result.path ?? target.path,
        size: result.size,
        etag: result.etag,
        type: result.type,
        verified: result.verified,
        bytesResumed: last?.bytesResumed ?? 0,
      }
      renderer.done(target, line)
      json(line)
    } catch (error) {
      active.delete(target)
      // Once interrupted, downloads ending now were paused or cut off: the interrupt said so already.
      if (interrupt.code !== undefined) return
      failed++
      const described = describeError(error)
      renderer.failed(target, described)
      json({ key: target.key, path: target.path, error: described })
    }
  }

  let next = 0
  const worker = async (): Promise<void> => {
    while (interrupt.code === undefined && next < args.targets.length) await one(args.targets[next++]!)
  }
  const finished = Promise.all(Array.from({ length: filesAtOnce }, worker)).then(() => (failed > 0 ? EXIT.failed : EXIT.ok))

  try {
    const code = await Promise.race([finished, interrupt.stopped])
    renderer.close(interrupt.code !== undefined)
    return code
  } finally {
    interrupt.dispose()
  }
}
