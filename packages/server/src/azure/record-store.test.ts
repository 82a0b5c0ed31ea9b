import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isValetError } from '@valet/protocol'
import { azure } from './index.js'
import { useAzurite } from './use-azurite.js'

// Records on a real Azurite: the conditional create must be decided by storage, not by us.
const azurite = useAzurite('records')
const records = () => azure(azurite().options).records
const code = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (isValetError(e) ? e.code : `other: ${String(e)}`))

describe('records', () => {
  it('are conditional JSON blobs under .valet/', async () => {
    const store = records()
    const name = `receipts/${randomUUID()}.json`
    expect(store.conditional).toBe(true)
    expect(await store.read(name)).toBeUndefined()
    expect(await store.create(name, '{"n":1}')).toBe(true)
    expect(await store.create(name, '{"n":2}')).toBe(false)
    expect(await store.read(name)).toBe('{"n":1}')
    const props = await azurite().container.getBlockBlobClient(`.valet/${name}`).getProperties()
    expect(props.contentType).toBe('application/json')
    await store.write(name, '{"n":3}')
    expect(await store.read(name)).toBe('{"n":3}')
    await store.remove(name)
    await store.remove(name)
    expect(await store.read(name)).toBeUndefined()
  })

  it('let exactly one of many concurrent creates win', async () => {
    const store = records()
    const name = `receipts/${randomUUID()}.json`
    const wins = await Promise.all(Array.from({ length: 8 }, (_, i) => store.create(name, `{"writer":${i}}`)))
    expect(wins.filter(Boolean)).toHaveLength(1)
    expect(await store.read(name)).toBe(`{"writer":${wins.indexOf(true)}}`)
  })

  it('refuse names outside their place: staging blobs, dot segments, absolute paths', async () => {
    const store = records()
    for (const bad of ['staging/alice/x', '../x', 'a/../b', '.hidden', '/abs', 'a//b', '']) {
      expect(await code(store.create(bad, '{}'))).toBe('internal_error')
      expect(await code(store.read(bad))).toBe('internal_error')
    }
  })
})
