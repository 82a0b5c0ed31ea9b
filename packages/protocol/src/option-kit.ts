/**
 * The one way Valet checks options: `createValet`, `s3()`, `azure()`, `createUploader` and
 * `upload()` all read their options through an {@link OptionReader}, so every bad option fails
 * the same way — a `ValetError('invalid_option')` whose message reads
 * "`<owner>`: option `<name>` <problem>" and whose `context` names the option and its owner.
 */
import { ValetError } from './errors.js'

/** `context` of an `invalid_option` error. */
export interface InvalidOptionContext {
  /** The option, as the caller wrote it (`'headers.authorization'` for a nested one). */
  option: string
  /** What the option belongs to: `'createValet'`, `'s3()'`, `'createUploader'`… */
  owner: string
}

/** The error every option check throws. */
export function invalidOption(owner: string, option: string, problem: string): ValetError<'invalid_option'> {
  return new ValetError('invalid_option', `${owner}: option \`${option}\` ${problem}`, { context: { option, owner } })
}

interface IntegerRule {
  min: number
  /** Absent: any safe integer from `min` up. */
  max?: number
  /** Why the bounds are what they are, for the message. */
  hint?: string
}

interface StringRule {
  allowEmpty?: boolean
  /** What the value must look like, for the message. */
  hint?: string
  /** A value must match it too; its failure reads like a wrong type, with the hint. */
  pattern?: RegExp
  /** Never quote the value back (a key, a password). */
  secret?: boolean
}

/** Reads one options object; each method checks one option and returns it typed. */
export class OptionReader {
  readonly #owner: string
  readonly #values: Readonly<Record<string, unknown>>
  // Set on a reader of a nested object, so its errors name `parent.option`.
  #prefix = ''

  /**
   * @param known when given, any other key is refused (a misspelt option must not pass silently).
   * @example
   * ```ts
   * const read = new OptionReader('s3()', options, ['bucket', 'region'])
   * const bucket = read.string('bucket')
   * ```
   */
  constructor(owner: string, options: unknown, known?: readonly string[]) {
    this.#owner = owner
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw invalidOption(owner, 'options', `must be an object, got ${describe(options)}`)
    }
    this.#values = options as Record<string, unknown>
    if (known !== undefined) {
      const allowed = new Set(known)
      for (const key of Object.keys(this.#values)) {
        if (!allowed.has(key) && this.#values[key] !== undefined) throw invalidOption(owner, key, `is not an option of ${owner}`)
      }
    }
  }

  /** The raw value, for checks the kit has no method for. */
  raw(option: string): unknown {
    return this.#values[option]
  }

  /** Throws the kit's error for `option`. */
  fail(option: string, problem: string): never {
    throw invalidOption(this.#owner, `${this.#prefix}${option}`, problem)
  }

  /** A reader of the object at `option`, whose errors name `option.key`. */
  nested(option: string, hint?: string): OptionReader {
    const value = this.#values[option]
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(option, `must be an object${hint ? ` ${hint}` : ''}, got ${describe(value)}`)
    }
    const reader = new OptionReader(this.#owner, value)
    reader.#prefix = `${this.#prefix}${option}.`
    return reader
  }

  /** An integer within `[min, max]`; `fallback` when absent (`undefined` fallback: stays absent). */
  integer(option: string, rule: IntegerRule & { fallback: number }): number
  integer(option: string, rule: IntegerRule & { fallback?: undefined }): number | undefined
  integer(option: string, { min, max, hint, fallback }: IntegerRule & { fallback?: number }): number | undefined {
    const value = this.#values[option]
    if (value === undefined) return fallback
    // Infinity is allowed when it is the bound: "no limit". Beyond 2^53 integers are not exact.
    const whole = typeof value === 'number' && (Number.isSafeInteger(value) || (value === Infinity && max === Infinity))
    if (!whole || value < min || (max !== undefined && value > max)) {
      const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max === Infinity ? 'Infinity' : max}`
      this.fail(option, `must be an integer ${range}${hint ? ` (${hint})` : ''}, got ${describe(value)}`)
    }
    return value
  }

  /** A string; `fallback` when absent. Empty strings are refused unless `allowEmpty`. */
  string(option: string, rule: StringRule & { fallback: string }): string
  string(option: string, rule?: StringRule & { fallback?: undefined; required?: false }): string | undefined
  string(option: string, rule: StringRule & { required: true }): string
  string(option: string, rule: StringRule & { fallback?: string; required?: boolean } = {}): string | undefined {
    const value = this.#values[option]
    if (value === undefined) {
      if (rule.required) this.fail(option, `is required${rule.hint ? `: ${rule.hint}` : ''}`)
      return rule.fallback
    }
    if (typeof value !== 'string' || (!rule.allowEmpty && value.trim() === '') || (rule.pattern && !rule.pattern.test(value))) {
      const got = rule.secret && typeof value === 'string' ? `a string of ${value.length} characters` : describe(value)
      this.fail(option, `must be a non-empty string${rule.hint ? ` (${rule.hint})` : ''}, got ${got}`)
    }
    return value
  }

  /**
   * The base URL of a service: absolute, `http:` or `https:`, with no query, fragment or
   * credentials in it; `fallback` when absent.
   */
  httpUrl(option: string, fallback: string): URL {
    const hint = 'an absolute http: or https: URL'
    const raw = this.string(option, { fallback, pattern: /^\S(?:.*\S)?$/s, hint })
    let url: URL | undefined
    try {
      url = new URL(raw)
    } catch {
      url = undefined
    }
    // First, and never quoted back: such a URL holds a password.
    if (url && (url.username !== '' || url.password !== '')) this.fail(option, 'must not carry credentials')
    if (url?.protocol !== 'http:' && url?.protocol !== 'https:') this.fail(option, `must be ${hint}, got ${describe(raw)}`)
    if (url.search !== '' || url.hash !== '') this.fail(option, 'must not have a query or a fragment')
    return url
  }

  /** A boolean; `fallback` when absent. */
  boolean(option: string, fallback: boolean): boolean {
    const value = this.#values[option]
    if (value === undefined) return fallback
    if (typeof value !== 'boolean') this.fail(option, `must be true or false, got ${describe(value)}`)
    return value
  }

  /** One of the listed literals; `fallback` when absent. */
  oneOf<const T extends string>(option: string, choices: readonly T[], fallback: T): T {
    const value = this.#values[option]
    if (value === undefined) return fallback
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      this.fail(option, `must be ${choices.map((c) => `'${c}'`).join(' or ')}, got ${describe(value)}`)
    }
    return value as T
  }

  /** A function (typed by the caller's declaration); `undefined` when absent unless `required`. */
  func<F extends (...args: never[]) => unknown>(option: string, rule: { required: true; hint?: string }): F
  func<F extends (...args: never[]) => unknown>(option: string, rule?: { required?: false; hint?: string }): F | undefined
  func<F extends (...args: never[]) => unknown>(option: string, rule: { required?: boolean; hint?: string } = {}): F | undefined {
    const value = this.#values[option]
    if (value === undefined && !rule.required) return undefined
    if (typeof value !== 'function') this.fail(option, `must be a function${rule.hint ? ` ${rule.hint}` : ''}, got ${describe(value)}`)
    return value as F
  }

  /** An array of strings, each passed to `each` (which may throw via `fail`); `[]` when absent. */
  strings(option: string, each?: (value: string, index: number) => string): string[] {
    const value = this.#values[option]
    if (value === undefined) return []
    if (!Array.isArray(value)) this.fail(option, `must be an array of strings, got ${describe(value)}`)
    return value.map((item: unknown, i) => {
      if (typeof item !== 'string') this.fail(`${option}[${i}]`, `must be a string, got ${describe(item)}`)
      return each ? each(item, i) : item
    })
  }

  /** An object of string values (headers, metadata); `undefined` when absent. */
  stringRecord(option: string): Record<string, string> | undefined {
    const value = this.#values[option]
    if (value === undefined) return undefined
    return checkStringRecord(this.#owner, `${this.#prefix}${option}`, value)
  }
}

/** Checks a value is an object of strings, naming `option.key` when one is not. */
export function checkStringRecord(owner: string, option: string, value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidOption(owner, option, `must be an object of strings, got ${describe(value)}`)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalidOption(owner, `${option}.${k}`, `must be a string, got ${describe(v)}`)
    out[k] = v
  }
  return out
}

/** A short, safe description of a bad value for a message (never a secret's content). */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value)
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value)
    case 'function':
      return 'a function'
    default:
      return typeof value === 'object' ? 'an object' : typeof value
  }
}
