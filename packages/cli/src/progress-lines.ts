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
  const sent = p?.bytesSent ?? 0
  const pct = `${percent(sent, size)}%`.padStart(4)
  const state = p === undefined ? 'waiting' : (phaseText(p) ?? `${formatRate(p.rate)}  ETA ${formatDuration(p.eta)}`)
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
}

export function etaOf(state: TotalState): number | null {
  return state.rate > 0 ? (state.bytesTotal - state.bytesSent) / state.rate : null
}

/** `total 2/5 files [████░░] 62.0/120.0 MiB  30.1 MiB/s  ETA 2s` */
export function totalLine(state: TotalState, columns: number): string {
  const text =
    `total ${state.filesDone}/${state.filesTotal} files ${bar(state.bytesSent, state.bytesTotal)} ` +
    `${formatBytes(state.bytesSent)}/${formatBytes(state.bytesTotal)}  ${formatRate(state.rate)}  ETA ${formatDuration(etaOf(state))}`
  return fitRight(text, columns - 1)
}

/** One plain (non-TTY) progress line: no bar, stable for logs. */
export function plainProgressLine(display: string, p: UploadProgress, size: number): string {
  const state = phaseText(p) ?? `${formatRate(p.rate)}, ETA ${formatDuration(p.eta)}`
  return `       ${display} ${percent(p.bytesSent, size)}% (${formatBytes(p.bytesSent)} of ${formatBytes(size)}, ${p.partsDone}/${p.partsTotal} parts, ${state})`
}
