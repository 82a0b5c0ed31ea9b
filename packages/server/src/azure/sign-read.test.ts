import { describe, expect, it } from 'vitest'
import { createClients } from './client.js'
import { AZURE_SERVICE_VERSION, normalizeAzureOptions } from './options.js'
import { signRead } from './sign-read.js'

// The well-known Azurite development key: only the SAS's shape is checked here (Azurite runs in test/).
const accountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

function sign(endpoint: string, expiresAt = new Date('2030-01-02T03:04:05.678Z')) {
  const config = normalizeAzureOptions({ accountName: 'devstoreaccount1', accountKey, container: 'uploads', endpoint })
  const { credential, container } = createClients(config)
  return signRead(config, credential, container, { key: 'alice/u1/a b.bin', etag: '"0x8DC"', start: 10, end: 20, expiresAt })
}

describe('Azure read keys', () => {
  it('a blob SAS with read only, on exactly the object, expiring on the whole second', () => {
    const read = sign('https://acct.blob.core.windows.net')
    const url = new URL(read.url)
    expect(url.pathname).toBe('/uploads/alice/u1/a%20b.bin')
    const q = url.searchParams
    expect({ sr: q.get('sr'), sp: q.get('sp'), spr: q.get('spr'), se: q.get('se'), st: q.get('st'), sv: q.get('sv') }).toEqual({
      sr: 'b',
      sp: 'r',
      spr: 'https',
      se: '2030-01-02T03:04:05Z',
      st: null,
      sv: AZURE_SERVICE_VERSION,
    })
    expect(read).toMatchObject({ start: 10, end: 20, method: 'GET', expiresAt: '2030-01-02T03:04:05.000Z' })
    expect(read.headers).toEqual({ 'x-ms-range': 'bytes=10-19', 'If-Match': '"0x8DC"', 'x-ms-version': AZURE_SERVICE_VERSION })
  })

  it('allows plain HTTP only for an HTTP endpoint (Azurite)', () => {
    expect(new URL(sign('http://127.0.0.1:10000/devstoreaccount1').url).searchParams.get('spr')).toBe('https,http')
  })

  it('never signs for Valet\'s own blobs', () => {
    const config = normalizeAzureOptions({ accountName: 'devstoreaccount1', accountKey, container: 'uploads', endpoint: 'https://acct.blob.core.windows.net' })
    const { credential, container } = createClients(config)
    expect(() => signRead(config, credential, container, { key: '.valet/receipts/x.json', etag: '"x"', start: 0, end: 1, expiresAt: new Date() })).toThrow()
  })
})
