/** The checks every download route makes before any storage call: reading on, key readable, canRead. */
import { ValetError } from '@valet/protocol'
import type { RouteContext } from './context.js'
import type { Principal } from './object-key.js'

const PRIVATE_PREFIX = '.valet/'

/**
 * Reading is off unless `createValet` was given `canRead` and the provider can sign read keys:
 * the routes then do not exist for the client (404), and say why.
 */
export function readingOn<P extends Principal>(ctx: RouteContext<P>): void {
  if (!ctx.options.canRead) {
    throw new ValetError('not_found', 'downloads are off: createValet has no canRead option')
  }
  if (!ctx.options.storage.signRead) {
    throw new ValetError('not_found', `downloads are off: the ${ctx.options.storage.name} provider cannot sign read keys`)
  }
}

/**
 * Whether this principal may read `key`, asked of the app on every call so that revoking access
 * takes effect at once. Keys under `.valet/` (Valet's receipts, manifests, Azure staging blobs)
 * are never readable, whatever `canRead` says; neither are keys a URL would resolve elsewhere.
 */
export async function allowRead<P extends Principal>(ctx: RouteContext<P>, key: string): Promise<void> {
  // Azure reads `\` as `/` in blob names (measured on Azurite: `.valet\x` names `.valet/x`):
  // every check sees a backslash as the separator it may become.
  const path = key.replace(/\\/g, '/')
  const segments = path.split('/')
  if (segments.some((s) => s === '.' || s === '..') || path.startsWith('/')) {
    throw new ValetError('bad_request', 'key must not start with "/" or contain "." or ".." segments', { context: { key } })
  }
  if (path.startsWith(PRIVATE_PREFIX) || path === PRIVATE_PREFIX.slice(0, -1)) {
    throw new ValetError('forbidden', `keys under ${PRIVATE_PREFIX} are Valet's own and never readable`, { context: { key } })
  }
  const allowed = await ctx.options.canRead!({ principal: ctx.principal, key, request: ctx.request })
  if (allowed !== true) throw new ValetError('forbidden', `canRead refused ${ctx.principal.id} reading ${key}`, { context: { key } })
}
