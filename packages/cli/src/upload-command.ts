/** `valet upload`: many files, few at a time, resumable, one JSON line or one progress bar each. */
import { createUploader, isValetError, type NodeSource, type Upload, type UploadProgress, type UploadResult, type Uploader } from '@valet/client'
import { DEFAULT_PART_SIZE } from '@valet/protocol'
import { UsageError } from './cli-args.js'
import { EXIT, processIo, type CliIo } from './cli-io.js'
import { PathError, expandPaths, type FileEntry } from './expand-paths.js'
import { expectedParts, runWithSlots } from './file-scheduler.js'
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
  const options = {
    endpoint: args.endpoint,
    headers: args.headers,
    resume: true,
    stateDir: args.stateDir,
    retries: args.retries,
    ...(args.partSize === undefined ? {} : { partSize: args.partSize }),
  }
  // One uploader for the run: its option checks come before any traffic, and each file gets the
  // share of --concurrency the scheduler gives it.
  let uploader: Uploader<NodeSource>
  try {
    uploader = createUploader({ ...options, concurrency: args.concurrency })
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

  const active = new Map<FileEntry, Upload>()
  let failed = 0
  let interrupted: number | undefined

  // The server may plan other parts than --part-size asks for (storage minimums, 10,000 parts at
  // most): say once per size actually used, so nobody believes 1 KiB parts went out.
  const sizesNoted = new Set<number>()
  const notePartSize = (used: number): void => {
    if (args.partSize === undefined || used === args.partSize || sizesNoted.has(used)) return
    sizesNoted.add(used)
    const why = used > args.partSize ? 'storage needs larger parts' : 'the server chose smaller parts'
    renderer.note(`valet upload: --part-size ${formatBytes(args.partSize)} adjusted: ${why}; using ${formatBytes(used)} parts`)
  }

  const uploadOne = async (file: FileEntry, slots: number): Promise<void> => {
    renderer.start(file)
    let planned: UploadProgress | undefined
    const onProgress = (p: UploadProgress): void => {
      if (planned === undefined && p.phase !== 'preparing') {
        planned = p
        notePartSize(p.partSize)
      }
      renderer.progress(file, p)
    }
    let result: UploadResult
    try {
      const upload = uploader.upload(file.path, { name: file.name, onProgress, concurrency: slots })
      active.set(file, upload)
      result = await upload.done
    } catch (error) {
      if (interrupted !== undefined) return
      failed++
      const described = describeError(error)
      renderer.failed(file, described)
      json({ path: file.display, name: file.name, error: described })
      return
    } finally {
      active.delete(file)
    }
    if (interrupted !== undefined) return
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
      bytesResumed: planned?.bytesResumed ?? 0,
      partSize: planned?.partSize ?? 0,
    }
    if (result.result !== undefined) line.result = result.result
    json(line)
  }

  let onSignal: ((signal: NodeJS.Signals) => void) | undefined
  const stoppedBySignal = new Promise<number>((resolve) => {
    onSignal = (signal) => {
      if (interrupted !== undefined) {
        // A second Ctrl+C: the user does not want to wait for anything.
        process.exit(interrupted)
      }
      interrupted = signal === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint
      // Paused, not aborted: the storage upload and its resume state stay for the next run.
      for (const [file, upload] of active) {
        upload.pause()
        json({ path: file.display, name: file.name, error: { code: 'paused', message: 'interrupted; run the same command again to resume' } })
      }
      renderer.note(`interrupted: ${active.size} upload(s) paused; run the same command again (state in ${args.stateDir}) to resume`)
      resolve(interrupted)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })

  const need = (f: FileEntry): number => expectedParts(f.size, args.partSize, DEFAULT_PART_SIZE)
  const finished = runWithSlots(files, args.concurrency, need, uploadOne, () => interrupted !== undefined).then(() =>
    failed > 0 ? EXIT.failed : EXIT.ok,
  )
  try {
    const code = await Promise.race([finished, stoppedBySignal])
    renderer.close(interrupted !== undefined)
    return code
  } finally {
    if (onSignal) {
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
    }
  }
}
