import { describe, expect, it } from 'vitest'
import { normalizeAzureOptions, type AzureOptions } from './options.js'

const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const base: AzureOptions = { accountName: 'myaccount', accountKey: KEY, container: 'uploads' }

describe('normalizeAzureOptions', () => {
  it('defaults the endpoint to the public Azure blob host', () => {
    expect(normalizeAzureOptions(base)).toEqual({
      accountName: 'myaccount',
      accountKey: KEY,
      container: 'uploads',
      endpoint: 'https://myaccount.blob.core.windows.net',
      https: true,
    })
  })

  it('keeps a path-style endpoint (Azurite) and drops trailing slashes', () => {
    const o = normalizeAzureOptions({ ...base, endpoint: 'http://127.0.0.1:10000/devstoreaccount1//' })
    expect(o.endpoint).toBe('http://127.0.0.1:10000/devstoreaccount1')
    expect(o.https).toBe(false)
  })

  it('accepts the reserved containers', () => {
    expect(normalizeAzureOptions({ ...base, container: '$web' }).container).toBe('$web')
  })

  it.each([
    [{ accountName: 'My_Account' }, 'accountName'],
    [{ accountName: 'ab' }, 'accountName'],
    [{ accountName: undefined }, 'accountName'],
    [{ accountKey: '' }, 'accountKey'],
    [{ accountKey: 'not base64!' }, 'accountKey'],
    [{ accountKey: 'abc' }, 'accountKey'],
    [{ container: 'Uploads' }, 'container'],
    [{ container: 'a--b' }, 'container'],
    [{ container: '-ab' }, 'container'],
    [{ container: 'ab-' }, 'container'],
    [{ container: 'ab' }, 'container'],
    [{ container: 42 }, 'container'],
    [{ endpoint: 'blob.core.windows.net' }, 'endpoint'],
    [{ endpoint: 'ftp://host/acct' }, 'endpoint'],
    [{ endpoint: 'https://acct.blob.core.windows.net/?sv=2025-05-05&sig=x' }, 'endpoint'],
    [{ endpoint: 'https://user:pw@acct.blob.core.windows.net' }, 'endpoint'],
    [{ endpoint: '' }, 'endpoint'],
  ] as [Partial<Record<keyof AzureOptions, unknown>>, string][])('throws a TypeError naming %j', (patch, option) => {
    const call = () => normalizeAzureOptions({ ...base, ...patch } as AzureOptions)
    expect(call).toThrow(TypeError)
    expect(call).toThrow(`options.${option}`)
  })

  it('rejects a missing options object', () => {
    expect(() => normalizeAzureOptions(undefined as unknown as AzureOptions)).toThrow(TypeError)
  })
})
