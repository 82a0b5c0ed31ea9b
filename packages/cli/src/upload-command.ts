/** `valet upload`: many files through one `uploadMany`, resumable, one JSON line or one progress bar each. */
import { createUploader, isValetError, type ManyFile, type ManyOutcome, type NodeSource, type UploadProgress, type Uploader } from '@valet/client'
import { UsageError } from './cli-args.js'
import { EXIT, processIo, type CliIo } from './cli-io.js'
import { catchInterrupt } from './interrupt.js'
import { PathError, expandPaths, type FileEntry } from './expand-paths.js'
import { RunJournal } from './run-journal.js'
import { formatBytes } from './format.js'
import { ProgressRenderer, modeFor } from './progress-renderer.js'
import { UPLOAD_HELP, parseUploadArgs, type UploadArgs } from './upload-args.js'

/** One line of `--json` output for a finished file. */
export interface UploadedLine {
  path: string
  name: string
  key: string
  size: number
  etag: string
  location: string
  uploadId: string
  /** Parts storage already held when this run started (a resumed upload). */
  partsResumed: number
  /** Bytes of those parts: not sent again in this run. */
  bytesResumed: number
  /** The part size the server planned (it may differ from `--part-size`). */
  partSize: number
  result?: unknown
}

/** One line of `--json` output for a file that did not complete. */
export interface FailedLine {
  path: string
  name: string
  error: { code: string; message: string }
}

function describeError(error: unknown): { code: string; message: string } {
  if (isValetError(error)) return { code: error.code, message: error.message }
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error) }
}

/**
 * Runs `valet upload` and resolves with the exit code: 0 every file complete, 1 any failed,
 * 2 usage error, 130 interrupted (uploads paused, resume state kept).
 *
 * @example
 * ```ts
 * const code = await uploadCommand(['big.iso', '--endpoint', 'http://127.0.0.1:3000/api/valet', '--json'])
 * ```
 */
export async function uploadCommand(argv: string[], io: CliIo = processIo()): Promise<number> {
  const args = parseUploadArgs(argv, io.cwd)
  if (args === 'help') {
    io.stdout.write(`${UPLOAD_HELP}\n`)
    return EXIT.ok
  }
  let expanded
  try {
    expanded = await expandPaths(args.paths, io.cwd)
  } catch (error) {
    if (error instanceof PathError) throw new UsageError(error.message, 'upload')
    throw error
  }
  for (const w of expanded.warnings) io.stderr.write(`valet upload: ${w}\n`)
  if (expanded.files.length === 0) {
    // Almost always a wrong path or a folder not yet filled: exiting 0 would hide it from scripts.
    io.stderr.write(`valet upload: nothing to upload: no regular files in ${args.paths.join(', ')}\n`)
    return EXIT.failed
  }
  return runUploads(expanded.files, args, io)
}

async function runUploads(files: FileEntry[], args: UploadArgs, io: CliIo): Promise<number> {
  // One uploader and one uploadMany for the run: option checks come before any traffic, creates
  // and completes go out in batch calls, and --concurrency is the PUT budget over all files (a
  // small file takes one PUT, a large one up to --concurrency).
  let uploader: Uploader<NodeSource>
  try {
    uploader = createUploader({
      endpoint: args.endpoint,
      headers: args.headers,
      resume: true,
      stateDir: args.stateDir,
      retries: args.retries,
      concurrency: args.concurrency,
      ...(args.partSize === undefined ? {} : { partSize: args.partSize }),
    })
  } catch (error) {
    throw new UsageError(describeError(error).message, 'upload')
  }
  const human = args.json ? io.stderr : io.stdout
  const mode = modeFor(human, io.env)
  // With --json, stdout is for machines: plain progress lines would only be noise on stderr.
  const renderer = new ProgressRenderer(files, { output: human, mode: args.json && mode === 'plain' ? 'silent' : mode })
  const json = (line: UploadedLine | FailedLine): void => {
    if (args.json) io.stdout.write(`${JSON.stringify(line)}\n`)
  }
  // Files an interrupted run of this command already finished are reported, not sent again.
  const journal = await RunJournal.open<UploadedLine>(args.stateDir, args.endpoint, files)
  const toSend: number[] = []
  /** The file of uploadMany's item `i`. */
  const fileOf = (i: number): FileEntry => files[toSend[i]!]!
  files.forEach((file, index) => {
    const earlier = journal.finished(file)
    if (earlier === undefined) return void toSend.push(index)
    // Every part was in storage when this run started.
    const partsResumed = earlier.partSize > 0 ? Math.ceil(earlier.size / earlier.partSize) : 1
    renderer.start(file)
    renderer.done(file, { key: earlier.key, size: earlier.size, partsResumed, bytesResumed: earlier.size })
    json({ ...earlier, partsResumed, bytesResumed: earlier.size })
  })

  /** Files started and not yet ended, by index: what an interrupt reports as paused. */
  const active = new Set<number>()
  /** Each file's first progress with a plan: its part size and resumed bytes. */
  const planned = new Map<number, UploadProgress>()
  let failed = 0
  // Paused, not aborted: the storage uploads and their resume state stay for the next run. (A
  // signal is handled from the event loop: \`batch\` exists by then.)
  const interrupt = catchInterrupt(() => {
    batch.pause()
    for (const index of [...active].sort((a, b) => a - b)) {
      const file = fileOf(index)
      json({ path: file.display, name: file.name, error: { code: 'paused', message: 'interrupted; run the same command again to resume' } })
    }
    renderer.note(`interrupted: ${active.size} upload(s) paused; run the same command again (state in ${args.stateDir}) to resume`)
  })

  // The server may plan other parts than --part-size asks for (storage minimums, 10,000 parts at
  // most): say once per size actually used, so nobody believes 1 KiB parts went out. A file sent
  // in one PUT has no part size to speak of.
  const sizesNoted = new Set<number>()
  const notePartSize = (used: number, partsTotal: number): void => {
    if (args.partSize === undefined || partsTotal <= 1 || used === args.partSize || sizesNoted.has(used)) return
    sizesNoted.add(used)
    const why = used > args.partSize ? 'storage needs larger parts' : 'the server chose smaller parts'
    renderer.note(`valet upload: --part-size ${formatBytes(args.partSize)} adjusted: ${why}; using ${formatBytes(used)} parts`)
  }

  const onFileStart = (f: ManyFile): void => {
    if (interrupt.code !== undefined) return
    active.add(f.index)
    renderer.start(fileOf(f.index))
  }
  const onFileProgress = (f: ManyFile, p: UploadProgress): void => {
    if (interrupt.code !== undefined) return
    if (!planned.has(f.index) && p.phase !== 'preparing') {
      planned.set(f.index, p)
      notePartSize(p.partSize, p.partsTotal)
    }
    renderer.progress(fileOf(f.index), p)
  }
  const onFileDone = (outcome: ManyOutcome): void => {
    active.delete(outcome.index)
    // Once interrupted, files ending now were paused or cut off: the interrupt said so already.
    if (interrupt.code !== undefined) return
    const file = fileOf(outcome.index)
    if (!outcome.ok) {
      failed++
      const described = describeError(outcome.error)
      renderer.failed(file, described)
      json({ path: file.display, name: file.name, error: described })
      return
    }
    const { result } = outcome
    const plan = planned.get(outcome.index)
    renderer.done(file, result)
    const line: UploadedLine = {
      path: file.display,
      name: file.name,
      key: result.key,
      size: result.size,
      etag: result.etag,
      location: result.location,
      uploadId: result.uploadId,
      partsResumed: result.partsResumed,
      bytesResumed: plan?.bytesResumed ?? 0,
      partSize: plan?.partSize ?? 0,
    }
    if (result.result !== undefined) line.result = result.result
    journal.record(file, line)
    json(line)
  }

  const batch = uploader.uploadMany(
    toSend.map((i) => ({ source: files[i]!.path, name: files[i]!.name })),
    { concurrency: args.concurrency, onFileStart, onFileProgress, onFileDone },
  )

  // Every file complete: a later run of the same command uploads again, as it always did.
  const finished = batch.done.then(async () => (failed > 0 ? EXIT.failed : (await journal.remove(), EXIT.ok)))
  try {
    const code = await Promise.race([finished, interrupt.stopped])
    renderer.close(interrupt.code !== undefined)
    return code
  } finally {
    interrupt.dispose()
  }
}
