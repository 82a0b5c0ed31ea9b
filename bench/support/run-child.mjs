// One bench job in a child process of its own (its peak RSS is its own): the job goes in as
// BENCH_JOB, the child's last stdout line is its JSON result. `children` holds the live ones so
// an interrupted bench can kill them (an upload must not be left going).
import { execFileSync, spawn } from 'node:child_process'
import os from 'node:os'

const CHILD_TIMEOUT_MS = 15 * 60_000

/** The CPU every child is pinned to (`--pin`), or undefined. */
let childCpu

/**
 * `--pin`: this process, and storage it starts from now on (children inherit affinity), on CPU 0;
 * each bench child on CPU 1. Throws where taskset or a second CPU is missing.
 */
export function pinCpus() {
  if (os.cpus().length < 2) throw new Error('--pin needs 2 CPUs')
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
  childCpu = 1
}

/** Runs `script` for `job`; `profileName` (with `profileDir`) writes a CPU profile of the child. */
export function runChild(script, job, { children, profileDir, profileName }) {
  const args = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', profileName] : []
  return new Promise((resolve, reject) => {
    // taskset execs node: the pid, signals and exit code are the child's own.
    const [command, ...argv] = childCpu === undefined ? [process.execPath, ...args, script] : ['taskset', '-c', String(childCpu), process.execPath, ...args, script]
    const child = spawn(command, argv, { env: { ...process.env, BENCH_JOB: JSON.stringify(job) }, stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c))
    child.stderr.setEncoding('utf8').on('data', (c) => (err += c))
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      children.delete(child)
      clearTimeout(timer)
      const line = out.trim().split('\n').pop()
      if (code === 0 && line) {
        try {
          return resolve(JSON.parse(line))
        } catch {}
      }
      reject(new Error(`${job.variant} child exited ${code ?? signal}: ${err.trim().slice(-2000) || out.slice(-500)}`))
    })
  })
}
