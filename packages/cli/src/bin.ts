/**
 * @module @valet/cli/bin — the `valet` executable.
 */
import { main } from './main.js'

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
  // Paused uploads or a lingering keep-alive socket must not hold an interrupted run open.
  if (code !== 0) setTimeout(() => process.exit(code), 2_000).unref()
})
