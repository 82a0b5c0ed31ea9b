import { describe, expect, it } from 'vitest'
import { normalizeAzureOptions, type AzureOptions, type NormalizedAzureOptions } from './options.js'

const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const base: AzureOptions = { accountName: 'myaccount', accountKey: KEY, container: 'uploads' }
// What a JavaScript caller can pass: anything.
const fromJavaScript = normalizeAzureOptions as (options: unknown) => NormalizedAzureOptions

describe('normalizeAzureOptions', () => {
  it('defaults the endpoint to the public Azure blob host', () => {
    expect(normalizeAzureOptions(base)).toEqual({
      accountName: 'myaccount',
      accountKey: KEY,
      container: 'uploads',
      endpoint: 'https://myaccount.blob.core.windows.net',
      https: true,
      singlePut: false,
    })
  })

  it('takes singlePut as a boolean only', () => {
    expect(normalizeAzureOptions({ ...base, singlePut: true }).singlePut).toBe(true)
    expect(() => normalizeAzureOptions({ ...base, singlePut: 'yes' as unknown as boolean })).toThrow(/option `singlePut` must be true or false/)
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
  ] as [Partial<Record<keyof AzureOptions, unknown>>, string][])('refuses %j with invalid_option naming the option', (patch, option) => {
    const call = () => fromJavaScript({ ...base, ...patch })
    expect(call).toThrow(`azure(): option \`${option}\` `)
    expect(call).toThrow(expect.objectContaining({ code: 'invalid_option', context: { option, owner: 'azure()' } }))
  })

  it('says what is wrong, and never quotes the key', () => {
    expect(() => fromJavaScript({ ...base, accountName: undefined })).toThrow('option `accountName` is required: 3–24 lowercase letters and digits')
    expect(() => fromJavaScript({ ...base, container: 42 })).toThrow(/option `container` must be a non-empty string \(3–63 lowercase .*\), got 42$/)
    expect(() => fromJavaScript({ ...base, endpoint: 'ftp://host/acct' })).toThrow('option `endpoint` must be an absolute http: or https: URL, got "ftp://host/acct"')
    expect(() => fromJavaScript({ ...base, accountKey: 'not base64!' })).toThrow(/option `accountKey` must be a non-empty string \(the base64 account key\), got a string of 11 characters$/)
  })

  it('rejects a missing options object', () => {
    expect(() => fromJavaScript(undefined)).toThrow('azure(): option `options` must be an object, got undefined')
  })
})
