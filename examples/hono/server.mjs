import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import { honoValet } from '@valet/server/hono'
import { exampleValet, principalFromBearer } from '@valet-examples/shared'

const { valet, stop } = await exampleValet({ authorize: (request) => principalFromBearer(request.headers.get('authorization')) })
const app = new Hono()
// CORS (preflights included) is answered by Valet itself, for createValet's allowedOrigins.
app.route('/api/valet', honoValet(valet))

const port = Number(process.env.PORT ?? 3001)
const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => console.log(`key endpoint: http://127.0.0.1:${port}/api/valet`))
process.once('SIGINT', () => server.close(() => stop().then(() => process.exit(0))))
