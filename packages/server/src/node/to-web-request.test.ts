import { EventEmitter } from 'node:events'
import { IncomingMessage, type ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { abortOnClose, toWebRequest } from './to-web-request.js'

function response(finished: boolean): ServerResponse {
  return Object.assign(new EventEmitter(), { writableFinished: finished }) as ServerResponse
}

describe('abortOnClose', () => {
  it('aborts when the client goes away before the answer is written', () => {
    const res = response(false)
    const signal = abortOnClose(res)
    expect(signal.aborted).toBe(false)
    res.emit('close')
    expect(signal.aborted).toBe(true)
    expect(String(signal.reason)).toMatch(/client closed the connection/)
  })

  it('does not abort once the answer was written', () => {
    const res = response(true)
    const signal = abortOnClose(res)
    res.emit('close')
    expect(signal.aborted).toBe(false)
  })
})

describe('toWebRequest', () => {
  it('serializes a body a parser already read, under the original URL', async () => {
    const req = new IncomingMessage(new Socket())
    req.method = 'POST'
    req.url = '/uploads'
    req.headers = { host: 'app.test', 'content-type': 'application/json', 'content-length': '99' }
    // What Express and body-parser leave behind.
    Object.assign(req, { originalUrl: '/api/valet/uploads', body: { name: 'a' }, _body: true })
    const request = toWebRequest(req)
    expect(request.url).toBe('http://app.test/api/valet/uploads')
    expect(request.headers.get('content-length')).toBeNull()
    expect(await request.json()).toEqual({ name: 'a' })
  })
})
