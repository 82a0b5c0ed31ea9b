import { createServer, type AddressInfo } from 'node:net'

/** A port on 127.0.0.1 that nothing listens on now (bound, then closed): for a child to bind, or to find refused. */
export const freePort = (): Promise<number> =>
  new Promise<number>((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo
      s.close(() => ok(port))
    })
  })
