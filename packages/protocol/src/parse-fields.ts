/**
 * The field checks every wire parser shares (parse.ts, parse-download.ts): each throws a
 * `ValetError('bad_request')` naming the field. Internal to @valet/protocol.
 */
import { ValetError, type WireErrorCode } from './errors.js'

export type Obj = Record<string, unknown>

export function fail(field: string, problem: string, code: WireErrorCode = 'bad_request'): never {
  throw new ValetError(code, `${field} ${problem}`, { context: { field } })
}

export function object(value: unknown, field: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'must be an object')
  return value as Obj
}

export function string(value: unknown, field: string, max: number, min = 1): string {
  if (typeof value !== 'string') fail(field, 'must be a string')
  if (value.length < min) fail(field, 'must not be empty')
  if (value.length > max) fail(field, `must be at most ${max} characters`)
  return value
}

export function integer(value: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(field, 'must be an integer')
  if (value < min || value > max) fail(field, `must be between ${min} and ${max}`)
  return value
}

export function array(value: unknown, field: string, max: number, min = 1): unknown[] {
  if (!Array.isArray(value)) fail(field, 'must be an array')
  if (value.length < min) fail(field, `must have at least ${min} item${min === 1 ? '' : 's'}`)
  if (value.length > max) fail(field, `must have at most ${max} items`)
  return value
}

export function isoTime(value: unknown, field: string): string {
  const s = string(value, field, 64)
  if (Number.isNaN(Date.parse(s))) fail(field, 'must be an ISO 8601 time')
  return s
}

const MD5_BASE64 = /^[A-Za-z0-9+/]{22}==$/

export function md5(value: unknown, field: string): string {
  const s = string(value, field, 24)
  if (!MD5_BASE64.test(s)) fail(field, 'must be a base64 MD5 digest (24 characters)')
  return s
}
