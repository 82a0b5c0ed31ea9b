import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PathError, expandPaths } from './expand-paths.js'

let root: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'valet-expand-'))
  await mkdir(join(root, 'photos/2024/nested'), { recursive: true })
  await writeFile(join(root, 'photos/b.jpg'), 'bb')
  await writeFile(join(root, 'photos/a.jpg'), 'a')
  await writeFile(join(root, 'photos/2024/c.jpg'), 'ccc')
  await writeFile(join(root, 'photos/2024/nested/d.jpg'), 'dddd')
  await writeFile(join(root, 'single.txt'), 'single')
  // A loop back to an ancestor, a link to a file already listed, and a dangling link.
  await symlink('..', join(root, 'photos/2024/nested/up'))
  await symlink('../single.txt', join(root, 'photos/alias.txt'))
  await symlink('nowhere', join(root, 'photos/dangling'))
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('expandPaths', () => {
  it('keeps a file argument as given, named by its base name', async () => {
    const { files, warnings } = await expandPaths(['single.txt'], root)
    expect(files).toEqual([{ path: join(root, 'single.txt'), display: 'single.txt', name: 'single.txt', size: 6, mtimeMs: expect.any(Number) }])
    expect(warnings).toEqual([])
  })

  it('walks directories recursively in name order, skipping loops and dangling links', async () => {
    const { files, warnings } = await expandPaths(['photos/'], root)
    expect(files.map((f) => [f.display, f.name, f.size])).toEqual([
      ['photos/2024/c.jpg', 'photos/2024/c.jpg', 3],
      ['photos/2024/nested/d.jpg', 'photos/2024/nested/d.jpg', 4],
      ['photos/a.jpg', 'photos/a.jpg', 1],
      ['photos/alias.txt', 'photos/alias.txt', 6],
      ['photos/b.jpg', 'photos/b.jpg', 2],
    ])
    expect(warnings).toHaveLength(2)
    expect(warnings.join('\n')).toMatch(/photos\/2024\/nested\/up: directory already visited/)
    expect(warnings.join('\n')).toMatch(/photos\/dangling: broken symbolic link/)
  })

  it('uploads a file reached twice (argument and symlink) once', async () => {
    const { files } = await expandPaths(['single.txt', 'photos'], root)
    expect(files.filter((f) => f.size === 6)).toHaveLength(1)
    expect(files[0]!.display).toBe('single.txt')
  })

  it('names files under "." relative to it', async () => {
    const { files } = await expandPaths(['.'], join(root, 'photos/2024'))
    // nested/up points back at photos/2024 itself: a loop, walked once.
    expect(files.map((f) => f.name)).toEqual(['c.jpg', 'nested/d.jpg'])
    expect(files.map((f) => f.display)).toEqual(['./c.jpg', './nested/d.jpg'])
  })

  it('accepts absolute paths', async () => {
    const { files } = await expandPaths([join(root, 'photos/2024/nested')], '/')
    expect(files.map((f) => f.name)).toContain('nested/d.jpg')
  })

  it('refuses a missing path with PathError', async () => {
    await expect(expandPaths(['missing.bin'], root)).rejects.toThrow(PathError)
    await expect(expandPaths(['missing.bin'], root)).rejects.toThrow('no such file or directory: missing.bin')
  })
})
