// `pnpm start` and `pnpm valet`: build the packages only when a build is missing or older than
// its sources, so a fresh clone starts with no extra step and a built one starts at once (and a
// running test suite's dist is never rebuilt under it).
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../', import.meta.url))

/** Newest (or oldest) mtime of the files under `dir`, in ms. */
function mtimes(dir, pick) {
  let best
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    const t = entry.isDirectory() ? mtimes(path, pick) : statSync(path).mtimeMs
    if (t !== undefined) best = best === undefined ? t : pick(best, t)
  }
  return best
}

function stale(name) {
  const pkg = join(ROOT, 'packages', name)
  const dist = join(pkg, 'dist')
  if (!existsSync(dist)) return true
  const sources = Math.max(mtimes(join(pkg, 'src'), Math.max) ?? 0, statSync(join(pkg, 'package.json')).mtimeMs, statSync(join(pkg, 'rollup.config.mjs')).mtimeMs)
  return sources > (mtimes(dist, Math.min) ?? 0)
}

const packages = readdirSync(join(ROOT, 'packages'))
if (packages.some(stale)) {
  const build = spawnSync('pnpm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
  process.exitCode = build.status ?? 1
}
