/** A small static file handler for the dev page: GET/HEAD only, never outside its root. */
import { createReadStream } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
}

/** Shown at `/` when the CLI runs without the repository's example page (e.g. installed from npm). */
export function builtInPage(endpoint: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Valet dev server</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}code{background:#f2f2f2;padding:.1rem .3rem;border-radius:4px}</style>
</head>
<body>
<h1>Valet dev server</h1>
<p>The key endpoint is running at <code>${endpoint}</code>, backed by a local Azurite.</p>
<p>The browser example ships with the Valet repository. From Node, try:</p>
<p><code>valet upload &lt;file&gt; --endpoint ${endpoint}</code></p>
</body>
</html>
`
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' })
  res.end(body)
}

/**
 * Serves files under `root` (or `fallbackPage` at `/` when `root` is undefined). Directories
 * answer with their `index.html`.
 */
export function staticHandler(root: string | undefined, fallbackPage: string): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const realRoot = root === undefined ? undefined : realpath(resolve(root))
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return send(res, 405, 'method not allowed\n')
    }
    let pathname: string
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)
    } catch {
      return send(res, 400, 'bad path\n')
    }
    if (realRoot === undefined) {
      return pathname === '/' || pathname === '/index.html' ? send(res, 200, fallbackPage, TYPES['.html']) : send(res, 404, 'not found\n')
    }
    const base = await realRoot
    if (pathname.includes('\0')) return send(res, 400, 'bad path\n')
    let file = join(base, pathname)
    try {
      let info = await stat(file)
      if (info.isDirectory()) {
        if (!pathname.endsWith('/')) {
          res.writeHead(301, { location: `${pathname}/` })
          return void res.end()
        }
        file = join(file, 'index.html')
        info = await stat(file)
      }
      // Symlinks inside the root must not lead out of it.
      const real = await realpath(file)
      if (!info.isFile() || (real !== base && !real.startsWith(base + sep))) return send(res, 404, 'not found\n')
      streamFile(req, res, real, info.size)
    } catch {
      send(res, 404, 'not found\n')
    }
  }
}

function streamFile(req: IncomingMessage, res: ServerResponse, file: string, size: number): void {
  res.writeHead(200, {
    'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': size,
    'cache-control': 'no-cache',
  })
  if (req.method === 'HEAD') return void res.end()
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res)
}

/** Serves one known file (GET/HEAD), or 404 when it is missing. */
export async function serveFile(req: IncomingMessage, res: ServerResponse, file: string | undefined): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD')
    return send(res, 405, 'method not allowed\n')
  }
  const info = file === undefined ? undefined : await stat(file).catch(() => undefined)
  if (file === undefined || !info?.isFile()) return send(res, 404, 'not found (run `pnpm run build`?)\n')
  streamFile(req, res, file, info.size)
}
