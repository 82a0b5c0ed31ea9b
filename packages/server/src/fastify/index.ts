/**
 * @module @valet/server/fastify — the key endpoint as a Fastify plugin. It only translates
 * Fastify's request/reply to the Web `Request`/`Response` of `valet.fetch`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Valet } from '../create-valet.js'
import { abortOnClose, toWebRequest } from '../node/to-web-request.js'

/**
 * A Fastify plugin serving Valet under the prefix you register it with.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { fastifyValet } from '@valet/server/fastify'
 * const app = Fastify()
 * await app.register(fastifyValet(valet), { prefix: '/api/valet' })
 * ```
 */
export function fastifyValet(valet: Valet): (fastify: FastifyInstance) => Promise<void> {
  return async (fastify) => {
    // Leave bodies unread (this plugin's scope only): the core reads JSON itself, with its cap.
    fastify.removeAllContentTypeParsers()
    fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined))
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const response = await valet.fetch(toWebRequest(request.raw, abortOnClose(reply.raw)))
      reply.code(response.status)
      response.headers.forEach((value, name) => void reply.header(name, value))
      // Key endpoint answers are small JSON documents: buffering them is simplest and safe.
      return reply.send(response.body ? Buffer.from(await response.arrayBuffer()) : undefined)
    }
    fastify.all('/*', handler)
    fastify.all('/', handler)
  }
}
