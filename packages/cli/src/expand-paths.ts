/** Turns `valet upload`'s path arguments into the list of files to send. */
import { lstat, readdir, realpath, stat } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import { basename, join, relative, resolve, sep } from 'node:path'

/** One regular file to upload. */
export interface FileEntry {
  /** Absolute path (what the client opens and fingerprints). */
  path: string
  /** The path as the user knows it: the argument, or argument + path inside the directory. */
  display: string
  /** Name sent to the server: the base name, or `dir/sub/file` for files found in a directory. */
  name: string
  size: number
  /** Modification time (ms), with the size what tells a file from an edited one across runs. */
  mtimeMs: number
}

export interface ExpandResult {
  files: FileEntry[]
  /** Things skipped on the way (symlink loops, sockets, unreadable folders), one line each. */
  warnings: string[]
}

/** A path argument that does not exist or cannot be read: the command was called wrongly. */
export class PathError extends Error {
  override readonly name = 'PathError'
}

function posix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/')
}

/**
 * Expands files and directories (recursively, following symlinks, sorted by name). A directory
 * reached twice through symlinks is walked once, a file named twice is uploaded once.
 *
 * @example
 * ```ts
 * const { files, warnings } = await expandPaths(['photos', 'notes.txt'], process.cwd())
 * // files[0] → { path: '/home/me/photos/2024/a.jpg', display: 'photos/2024/a.jpg', name: 'photos/2024/a.jpg', size: 1234, mtimeMs: 1733500000000 }
 * ```
 * @throws PathError when an argument does not exist or is neither a file nor a directory.
 */
export async function expandPaths(paths: string[], cwd: string): Promise<ExpandResult> {
  const files: FileEntry[] = []
  const warnings: string[] = []
  const seenFiles = new Set<string>()
  // Directories by device + inode: the only identity that a symlink cycle cannot disguise.
  const seenDirs = new Set<string>()

  const addFile = async (absolute: string, display: string, name: string, stats: Stats): Promise<void> => {
    const real = await realpath(absolute)
    if (seenFiles.has(real)) return
    seenFiles.add(real)
    files.push({ path: absolute, display, name, size: stats.size, mtimeMs: stats.mtimeMs })
  }

  const walk = async (dir: string, display: string, name: string, stats: Stats): Promise<void> => {
    const id = `${stats.dev}:${stats.ino}`
    if (seenDirs.has(id)) {
      warnings.push(`skipped ${display}: directory already visited (symlink loop or duplicate)`)
      return
    }
    seenDirs.add(id)
    let entries: string[]
    try {
      entries = (await readdir(dir)).sort()
    } catch (error) {
      warnings.push(`skipped ${display}: ${(error as Error).message}`)
      return
    }
    for (const entry of entries) {
      const child = join(dir, entry)
      const childDisplay = `${display.replace(/\/+$/, '')}/${entry}`
      const childName = `${name}/${entry}`
      let target: Stats
      try {
        target = await stat(child)
      } catch (error) {
        const link = await lstat(child).catch(() => undefined)
        const why = link?.isSymbolicLink() ? 'broken symbolic link' : (error as Error).message
        warnings.push(`skipped ${childDisplay}: ${why}`)
        continue
      }
      if (target.isDirectory()) await walk(child, childDisplay, childName, target)
      else if (target.isFile()) await addFile(child, childDisplay, childName, target)
      else warnings.push(`skipped ${childDisplay}: not a regular file`)
    }
  }

  for (const arg of paths) {
    const absolute = resolve(cwd, arg)
    let stats: Stats
    try {
      stats = await stat(absolute)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw new PathError(code === 'ENOENT' ? `no such file or directory: ${arg}` : `cannot read ${arg}: ${(error as Error).message}`)
    }
    if (stats.isFile()) {
      await addFile(absolute, arg, basename(absolute), stats)
    } else if (stats.isDirectory()) {
      // `.` or `..` have no useful name of their own: name files relative to the directory then.
      const base = basename(absolute)
      const name = relative(cwd, absolute) === '' || arg.replace(/[/\\]+$/, '').endsWith('..') ? '' : base
      await walk(absolute, arg, name, stats)
    } else {
      throw new PathError(`${arg} is neither a regular file nor a directory`)
    }
  }
  for (const f of files) f.name = posix(f.name).replace(/^\/+/, '')
  return { files, warnings }
}
