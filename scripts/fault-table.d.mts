export interface SuiteFile {
  suite: string
  finishedAt: string
  soak: boolean
  setup: { partSize: number; parts: number; concurrency: number; repeat: number; note?: string }
  rows: {
    storage: string
    client: string
    between: string
    fault: string
    faults: number
    partPuts: number
    parts: number
    outcome: string
    bytesResent: number
    ms: number
    passed: boolean
  }[]
}
export function readSuites(dir: string): SuiteFile[]
export function render(suites: SuiteFile[], options?: { soak?: boolean }): string
export function replaceSection(text: string, name: string, body: string): string
