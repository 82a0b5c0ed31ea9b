// The file format is the recorder's (test/support/fault-matrix.ts): one definition, typed there.
import type { SuiteFile } from '../test/support/fault-matrix.js'

export type { SuiteFile }
export function readSuites(dir: string): SuiteFile[]
export function render(suites: SuiteFile[], options?: { soak?: boolean }): string
export function replaceSection(text: string, name: string, body: string): string
