/** Command-line parsing on node:util `parseArgs`, with every mistake turned into a {@link UsageError}. */
import { parseArgs, type ParseArgsConfig } from 'node:util'

/**
 * A mistake in how the command was called: `main` prints the message with a usage hint and exits 2.
 *
 * @example
 * ```ts
 * throw new UsageError('--endpoint URL is required', 'upload') // → "valet upload: --endpoint URL is required"
 * ```
 */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  constructor(
    message: string,
    /** The command whose `--help` would help, e.g. `upload`. */
    readonly command?: string,
  ) {
    super(message)
  }
}

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>

/** What `parseArgs` returns for these options (spelled out so declaration files can name it). */
export type ParsedCommandLine<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>
>

/**
 * Strict `parseArgs`: unknown flags, missing values and stray positionals become a
 * {@link UsageError} with a short message instead of Node's multi-line one.
 */
export function parseCommandLine<O extends OptionsConfig>(
  command: string,
  args: string[],
  options: O,
  allowPositionals: boolean,
): ParsedCommandLine<O> {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true })
  } catch (error) {
    throw new UsageError(describeParseError(error, options), command)
  }
}

function describeParseError(error: unknown, options: OptionsConfig): string {
  const { code, message } = error as { code?: string; message: string }
  // Node quotes the flag, sometimes with its short alias first: "Option '-p, --port <value>' ...".
  const flag = /'(?:-[A-Za-z], )?(-{1,2}[^' ,]+)/.exec(message)?.[1]
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${flag ?? message}`
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = flag?.replace(/^-+/, '')
      const expectsValue = name !== undefined && options[name]?.type === 'string'
      return expectsValue ? `option ${flag} needs a value` : `option ${flag ?? ''} takes no value`.trim()
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? message}`
    default:
      return message.split('\n')[0] ?? message
  }
}

/** An integer flag in `[min, max]`, or `fallback` when absent. */
export function integerFlag(value: string | undefined, flag: string, min: number, max: number, fallback: number, command?: string): number {
  if (value === undefined) return fallback
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${value}"`, command)
  }
  return n
}

/** `K:V` (or `K: V`) → `[K, V]`; the value may contain colons. */
export function parseHeader(text: string, command?: string): [string, string] {
  const i = text.indexOf(':')
  const name = i > 0 ? text.slice(0, i).trim() : ''
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new UsageError(`--header must look like "Name: value", got "${text}"`, command)
  }
  return [name, text.slice(i + 1).trim()]
}

/** `--<flag>` as an absolute http(s) URL. */
export function httpUrlFlag(value: string, flag: string, command?: string): URL {
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`--${flag} must be an absolute http(s) URL, got "${value}"`, command)
  }
  return url
}

/** Repeated `--header "K: V"` flags as one map, names lower-cased (a later one wins). */
export function headerFlags(values: readonly string[] | undefined, command?: string): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const h of values ?? []) {
    const [name, value] = parseHeader(h, command)
    headers[name.toLowerCase()] = value
  }
  return headers
}
