// Prints vitest's JSON results as one plain line CI can read: "tests: N passed, N failed, N skipped".
import { readFileSync } from 'node:fs'
const r = JSON.parse(readFileSync(new URL('../test-output/results.json', import.meta.url), 'utf8'))
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`)
