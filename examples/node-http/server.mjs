import http from 'node:http'
import { toNodeListener } from '@valet/server/node'
import { exampleValet, principalFromBearer } from '@valet-examples/shared'

const { valet, stop } = await exampleValet({ authorize: (request) => principalFromBearer(request.headers.get('authorization')) })
const listener = toNodeListener(valet)
const port = Number(process.env.PORT ?? 3001)

const server = http.createServer((req, res) => {
  if (!req.url?.startsWith('/api/valet/')) return res.writeHead(404).end('not found')
  listener(req, res)
})
server.listen(port, '127.0.0.1', () => console.log(`key endpoint: http://127.0.0.1:${port}/api/valet`))
process.once('SIGINT', () => server.close(() => stop().then(() => process.exit(0))))
