/**
 * The security suite's recorder: every attack a test tries on real storage becomes one row
 * (attack, provider, outcome), written to `test-output/security/<suite>.json` in `afterAll`, and
 * `node scripts/security-table.mjs --write docs/security.md` renders the rows as the table in
 * docs/security.md. A row is only `refused: true` when the test asserted the refusal at the
 * storage level (object bytes read back through the store's own API, hook counts, open uploads).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type Store = 'swift' | 'azurite' | 'any'

export interface AttackRow {
  /** Issue 12's attack number (1–11), or `R` for the attempts refused before it. */
  group: string
  attack: string
  store: Store
  /** What happened, in a few words: `403`, `upload_not_found (404)`, `object unchanged`... */
  outcome: string
  /** The attack achieved nothing it was after. `false` rows are residual risks, stated as such. */
  refused: boolean
}

export interface AttackSuiteFile {
  suite: string
  finishedAt: string
  rows: AttackRow[]
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const ATTACK_DIR = join(ROOT, 'test-output', 'security')

/** Collects a suite's rows; call `write()` in `afterAll`. Rows are recorded after their assertions. */
export class AttackLog {
  readonly rows: AttackRow[] = []

  constructor(readonly suite: string) {}

  record(row: AttackRow): void {
    this.rows.push(row)
  }

  async write(): Promise<void> {
    await mkdir(ATTACK_DIR, { recursive: true })
    const file: AttackSuiteFile = { suite: this.suite, finishedAt: new Date().toISOString(), rows: this.rows }
    await writeFile(join(ATTACK_DIR, `${this.suite}.json`), `${JSON.stringify(file, null, 2)}\n`)
  }
}
