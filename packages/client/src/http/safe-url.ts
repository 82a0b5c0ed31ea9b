/**
 * A URL as it may appear in errors and logs: origin and path only, since signed URLs carry
 * credentials in their query. A relative URL (a browser endpoint path) stays relative.
 */
export function safeUrl(url: string): string {
  const base = 'http://relative.invalid'
  try {
    const u = new URL(url, base)
    return `${u.origin === base ? '' : u.origin}${u.pathname}`
  } catch {
    return url.split('?')[0] ?? ''
  }
}
