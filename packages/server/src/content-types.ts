/**
 * Which content types an upload may declare, and which of them a browser would run as code if
 * it opened the object inline from the bucket's origin (HTML, SVG, XML with stylesheets,
 * JavaScript, Flash).
 */

/**
 * Script-capable types: a wildcard (`image/*`, `* /*`) never admits them, only their exact name
 * does, and they are stored with `Content-Disposition: attachment` unless the app opts out.
 */
export const ACTIVE_CONTENT_TYPES: readonly string[] = [
  'text/html',
  'application/xhtml+xml',
  'image/svg+xml',
  'text/xml',
  'application/xml',
  'text/xsl',
  'application/xslt+xml',
  'text/javascript',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'text/ecmascript',
  'text/jscript',
  'application/x-shockwave-flash',
]

const ACTIVE = new Set(ACTIVE_CONTENT_TYPES)

/** The bare `type/subtype`, lower-case, without parameters. */
export function essence(type: string): string {
  return type.toLowerCase().split(';')[0]!.trim()
}

/** True for types a browser may execute when served inline (any `+xml` document included). */
export function isActiveContent(type: string): boolean {
  const t = essence(type)
  return ACTIVE.has(t) || t.endsWith('+xml')
}

/**
 * Compiles `allowedTypes` into one predicate. `image/*` matches any image subtype and `* /*`
 * (or `*`) any type, but neither matches an active-content type: those pass only when listed
 * exactly (`'image/svg+xml'`).
 */
export function typeMatcher(patterns: string[]): (type: string) => boolean {
  const exact = new Set<string>()
  const prefixes: string[] = []
  let any = false
  for (const p of patterns.map((s) => s.trim().toLowerCase())) {
    if (p === '*/*' || p === '*') any = true
    else if (p.endsWith('/*')) prefixes.push(p.slice(0, -1))
    else exact.add(essence(p))
  }
  return (type) => {
    const t = essence(type)
    if (exact.has(t)) return true
    if (isActiveContent(t)) return false
    return any || prefixes.some((prefix) => t.startsWith(prefix))
  }
}
