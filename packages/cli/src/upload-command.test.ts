import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ENDPOINT, testBytes } from '../../client/src/testing/fake-valet.js'
import { useFakeValet } from '../../client/src/testing/msw-server.js'
import { uploadCommand, type FailedLine, type UploadedLine } from './upload-command.js'
import { memoryIo } from './testing/memory-io.js'

const { setup } = useFakeValet({ partSize: 1000 })
let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'valet-upload-cmd-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const io = () => memoryIo(dir, { CI: '1' })
const lines = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as UploadedLine | FailedLine)

describe('valet upload (in-process, msw fake)', () => {
  it('a directory of small files and a multipart one: one JSON line each, exit 0, a handful of key calls, no state left', async () => {
    const fake = setup()
    mkdirSync(join(dir, 'tree'))
    for (let i = 0; i < 60; i++) writeFileSync(join(dir, 'tree', `f${String(i).padStart(2, '0')}.txt`), testBytes(50 + i, i + 1))
    writeFileSync(join(dir, 'big.bin'), testBytes(3500, 99))
    const cli = io()
    const code = await uploadCommand(['tree', 'big.bin', '--endpoint', ENDPOINT, '--json', '--state-dir', join(dir, 'state'), '--concurrency', '4'], cli)
    expect(code).toBe(0)
    const got = lines(cli.out())
    expect(got).toHaveLength(61)
    expect(got.every((l) => 'key' in l)).toBe(true)
    const big = got.find((l) => l.name === 'big.bin') as UploadedLine
    expect(big).toMatchObject({ size: 3500, partSize: 1000, partsResumed: 0, bytesResumed: 0, result: { id: 42 } })
    expect([...fake.stats.calls.keys()].filter((op) => !['complete-batch', 'create-batch', 'sign', 'complete'].includes(op))).toEqual([])
    expect(fake.stats.calls.get('create-batch')).toBe(1)
    expect(readdirSync(join(dir, 'state'))).toEqual([])
  })

  it('a file the server refuses fails alone: its FailedLine, the others upload, exit 1', async () => {
    setup({ server: { maxFileSize: 1000 } })
    writeFileSync(join(dir, 'ok.bin'), testBytes(500, 1))
    writeFileSync(join(dir, 'huge.bin'), testBytes(1500, 2))
    const cli = io()
    const code = await uploadCommand(['ok.bin', 'huge.bin', '--endpoint', ENDPOINT, '--json', '--state-dir', join(dir, 'state')], cli)
    expect(code).toBe(1)
    const got = lines(cli.out())
    expect(got.find((l) => l.name === 'huge.bin')).toMatchObject({ path: 'huge.bin', error: { code: 'file_too_large' } })
    expect(got.find((l) => l.name === 'ok.bin')).toMatchObject({ size: 500 })
  })
})
