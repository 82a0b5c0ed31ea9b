import express from 'express'
import { toNodeListener } from '@valet/server/node'
import { exampleValet, principalFromBearer } from '@valet-examples/shared'

const { valet, stop } = await exampleValet({ authorize: (request) => principalFromBearer(request.headers.get('authorization')) })
const app = express()
app.use(express.json()) // your app's parser: the adapter works with or without it

// Express-style session check first; Valet's authorize sees the same header afterwards.
const requireUser = (req, res, next) =>
  req.method === 'OPTIONS' || principalFromBearer(req.get('authorization')) ? next() : res.status(401).json({ error: { code: 'unauthorized', message: 'sign in first' } })

// CORS (preflights included) is answered by Valet itself, for createValet's allowedOrigins.
app.use('/api/valet', requireUser, toNodeListener(valet))
app.get('/', (_req, res) => res.send('Valet key endpoint at /api/valet'))

const port = Number(process.env.PORT ?? 3001)
const server = app.listen(port, '127.0.0.1', () => console.log(`key endpoint: http://127.0.0.1:${port}/api/valet`))
process.once('SIGINT', () => server.close(() => stop().then(() => process.exit(0))))
