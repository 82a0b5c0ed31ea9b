import Fastify from 'fastify'
import { fastifyValet } from '@valet/server/fastify'
import { exampleValet, principalFromBearer } from '@valet-examples/shared'

const { valet, stop } = await exampleValet({ authorize: (request) => principalFromBearer(request.headers.get('authorization')) })
const app = Fastify({ logger: false })

// CORS (preflights included) is answered by Valet itself, for createValet's allowedOrigins.
await app.register(fastifyValet(valet), { prefix: '/api/valet' })

const port = Number(process.env.PORT ?? 3001)
await app.listen({ port, host: '127.0.0.1' })
console.log(`key endpoint: http://127.0.0.1:${port}/api/valet`)
process.once('SIGINT', () => app.close().then(stop).then(() => process.exit(0)))
