/** The text of progress lines, pure so both renderers and the tests share it. */
import type { UploadProgress } from '@valet/client'
import { formatBytes, formatDuration, formatRate, percent } from './format.js'

const BAR_WIDTH = 20

/** `[██████░░░░]`: eighths would be smoother but full blocks render the same on every terminal. */
export function bar(done: number, total: number, width = BAR_WIDTH): string {
  const filled = total > 0 ? Math.min(width, Math.floor((done / total) * width)) : 0
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`
}

/** Cuts `text` to `width` columns, keeping its end (the file name) behind a leading `…`. */
export function fitLeft(text: string, width: number): string {
  const chars = [...text]
  if (chars.length <= width) return text
  if (width <= 1) return chars.slice(chars.length - width).join('')
  return `…${chars.slice(chars.length - width + 1).join('')}`
}

/** Cuts `text` to `width` columns from the right: a terminal line must never wrap. */
export function fitRight(text: string, width: number): string {
  const chars = [...text]
  return chars.length <= width ? text : chars.slice(0, Math.max(0, width)).join('')
}

function phaseText(p: UploadProgress): string | undefined {
  switch (p.phase) {
    case 'preparing':
      return 'preparing'
    case 'paused':
      return 'paused'
    case 'completing':
      return 'completing'
    default:
      return undefined
  }
}

/**
 * `  41% [████░░] 5.0/12.0 MiB  3.1 MiB/s  ETA 3s  data/a.bin`, at most `columns - 1` wide (a
 * full-width line would wrap on some terminals). Narrow terminals get a shorter bar, then none,
 * before the name is cut.
 */
export function fileLine(display: string, p: UploadProgress | undefined, size: number, columns: number): string {
  const state = p === undefined ? 'waiting' : (phaseText(p) ?? `${formatRate(p.rate)}  ETA ${formatDuration(p.eta)}`)
  return barLine(display, p?.bytesSent ?? 0, size, state, columns)
}

/**
 * The bar line of one transfer, whatever its direction: percent, bar, bytes, `state` (a rate and
 * ETA, or a phase), then the name, at most `columns - 1` wide.
 */
export function barLine(display: string, sent: number, size: number, state: string, columns: number): string {
  const pct = `${percent(sent, size)}%`.padStart(4)
  const width = columns - 1
  const wanted = Math.min(16, [...display].length)
  let head = ''
  for (const barWidth of [BAR_WIDTH, 10, 0]) {
    head = `${pct} ${barWidth > 0 ? `${bar(sent, size, barWidth)} ` : ''}${formatBytes(sent)}/${formatBytes(size)}  ${state}  `
    if (width - [...head].length >= wanted) break
  }
  return fitRight(head + fitLeft(display, Math.max(1, width - [...head].length)), width)
}

export interface TotalState {
  filesDone: number
  filesTotal: number
  bytesSent: number
  bytesTotal: number
  rate: number
  /** Files that failed so far; shown when above 0. */
  filesFailed?: number
  /** Files being uploaded now; shown on plain total lines when given. */
  filesActive?: number
}

export function etaOf(state: TotalState): number | null {
  return state.rate > 0 ? (state.bytesTotal - state.bytesSent) / state.rate : null
}

/**
 * `total 2/5 files, 1 failed [████░░] 62.0/120.0 MiB  30.1 MiB/s  ETA 2s`: the failures come
 * before what a narrow terminal cuts off.
 */
export function totalLine(state: TotalState, columns: number): string {
  const failed = state.filesFailed ? `, ${state.filesFailed} failed` : ''
  const text =
    `total ${state.filesDone}/${state.filesTotal} files${failed} ${bar(state.bytesSent, state.bytesTotal)} ` +
    `${formatBytes(state.bytesSent)}/${formatBytes(state.bytesTotal)}  ${formatRate(state.rate)}  ETA ${formatDuration(etaOf(state))}`
  return fitRight(text, columns - 1)
}

/** The periodic line of a large run in a log: `total 2/5 files, 62.0 MiB of 120.0 MiB (51%), 30.1 MiB/s, ETA 2s, 3 in flight` */
export function plainTotalLine(state: TotalState): string {
  const parts = [
    `total ${state.filesDone}/${state.filesTotal} files`,
    `${formatBytes(state.bytesSent)} of ${formatBytes(state.bytesTotal)} (${percent(state.bytesSent, state.bytesTotal)}%)`,
    formatRate(state.rate),
    `ETA ${formatDuration(etaOf(state))}`,
  ]
  if (state.filesActive !== undefined) parts.push(`${state.filesActive} in flight`)
  if (state.filesFailed) parts.push(`${state.filesFailed} failed`)
  return parts.join(', ')
}

/** `failed data/a.bin: network_error: …`, the permanent line and, cut to the width, the live one. */
export function failureLine(display: string, error: { code: string; message: string }, columns?: number): string {
  const text = `failed ${display}: ${error.code}: ${error.message}`
  return columns === undefined ? text : fitRight(text.replace(/\s+/g, ' '), columns - 1)
}

/** One plain (non-TTY) progress line: no bar, stable for logs. */
export function plainProgressLine(display: string, p: UploadProgress, size: number): string {
  const state = phaseText(p) ?? `${formatRate(p.rate)}, ETA ${formatDuration(p.eta)}`
  return `       ${display} ${percent(p.bytesSent, size)}% (${formatBytes(p.bytesSent)} of ${formatBytes(size)}, ${p.partsDone}/${p.partsTotal} parts, ${state})`
}
