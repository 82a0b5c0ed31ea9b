/** `valet doctor`: checks a deployment the way a browser upload will use it. */
import { EXIT, processIo, type CliIo } from './cli-io.js'
import { DOCTOR_HELP, parseDoctorArgs } from './doctor-args.js'
import { renderReport, reportJson } from './doctor-report.js'
import { runDoctor } from './doctor-run.js'
import { modeFor } from './progress-renderer.js'

/**
 * Runs `valet doctor` and resolves with the exit code: 0 no check failed (warnings allowed),
 * 1 a check failed, 2 usage error.
 *
 * @example
 * ```ts
 * const code = await doctorCommand(['--endpoint', 'http://127.0.0.1:3000/api/valet', '--json'])
 * ```
 */
export async function doctorCommand(argv: string[], io: CliIo = processIo()): Promise<number> {
  const args = parseDoctorArgs(argv)
  if (args === 'help') {
    io.stdout.write(`${DOCTOR_HELP}\n`)
    return EXIT.ok
  }
  const report = await runDoctor(args)
  io.stdout.write(args.json ? `${reportJson(report)}\n` : renderReport(report, modeFor(io.stdout, io.env)))
  return report.ok ? EXIT.ok : EXIT.failed
}
