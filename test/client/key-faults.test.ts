/**
 * Faults between `@valet/client` in Node and the key endpoint: a fault proxy in front of a real
 * key server (createValet + toNodeListener) answers 503/500 for a while, resets and stalls
 * calls, loses the answer to complete, or takes the server away for 5 s (connection refused),
 * while a second proxy in front of Swift counts what reached storage. Every scenario must end
 * with the object complete and its sha256 right (read back through S3), nothing left open, every
 * complete call naming all parts; the one exception, a 500 on complete (the app's onComplete
 * throwing: not retried, by design), must fail typed with resumable state, and resume.
 * Rows: test-output/fault-matrix/node-key-server.json. The same scenarios run in Chromium in
 * test/browser/faults.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { MiB } from '@valet/protocol'
import { createUploader, isValetError, type UploaderOptions } from '@valet/client'
import { generate, sha256 } from '../support/key-endpoint.js'
import { expectStored, swiftCase } from '../support/storages.js'
import { FAULT_CONCURRENCY, FAULT_PARTS, FAULT_REPEAT, MatrixRecorder, keyFaultScenarios, type KeyFaultScenario } from '../support/fault-matrix.js'
import { AUTH, inspectableStore, keyProxiedStack } from './harness.js'
import { completeCallsNameEveryPart } from '../support/key-calls.js'

const PART = 5 * MiB
const PARTS = FAULT_PARTS
const SIZE = PARTS * PART
const DATA = generate(SIZE, 301)
const DATA_SHA256 = sha256(DATA)

const recorder = new MatrixRecorder('node-key-server', { partSize: PART, parts: PARTS, concurrency: FAULT_CONCURRENCY, repeat: FAULT_REPEAT })
afterAll(() => recorder.write())

const sum = (values: Record<string, number>): number => Object.values(values).reduce((a, b) => a + b, 0)

describe('swift: faults between the Node client and the key endpoint', () => {
  const storage = swiftCase()

  it.each(keyFaultScenarios().map((s) => [s.label, s] as const))('%s', async (_label, scenario) => {
    for (let run = 0; run < FAULT_REPEAT; run++) await keyFaultRun(scenario)
  })

  async function keyFaultRun(scenario: KeyFaultScenario): Promise<void> {
    const stack = await keyProxiedStack('swift', {
      // 4 s keys (usable for half their life) and 3 parts sharing 5 MiB/s (3 s each): parts
      // after the first window must be signed again mid-upload.
      storageProxy: scenario.shortKeys ? { bandwidth: 5 * MiB } : {},
      valet: scenario.shortKeys ? { keyTtl: 4 } : {},
    })
    try {
      stack.keyProxy.rules = scenario.rules()
      const store = inspectableStore()
      const options: UploaderOptions = {
        endpoint: stack.endpoint,
        concurrency: FAULT_CONCURRENCY,
        partSize: PART,
        headers: AUTH,
        resume: store,
        ...(scenario.requestTimeout ? { requestTimeout: scenario.requestTimeout } : {}),
      }
      const t0 = Date.now()
      const outcome = await createUploader(options)
        .upload(DATA, { name: `${scenario.id}.bin` })
        .done.then((result) => ({ result }), (error: unknown) => ({ error }))
      const created = stack.keys.of('create').find((c) => c.status === 201)
      const explain = (e: unknown) => (isValetError(e) ? `${e.code}: ${e.message}` : String(e))
      const row = recorder.add({
        storage: 'swift',
        client: 'node',
        between: 'client and key server',
        fault: scenario.label,
        faults: sum(stack.keyProxy.stats.faults),
        partPuts: stack.proxy.stats.partPuts,
        parts: PARTS,
        outcome: 'error' in outcome ? `failed: ${isValetError(outcome.error) ? outcome.error.code : String(outcome.error)}` : 'complete',
        bytesResent: stack.proxy.partBytesIn() - SIZE,
        ms: Date.now() - t0,
      })
      expect(created, 'an upload was created').toBeDefined()
      expect(stack.keys.of('create').filter((c) => c.status === 201), 'one upload created, not one per retry').toHaveLength(1)
      expect(completeCallsNameEveryPart(stack.keys.calls)).toEqual({ ok: true, detail: '' })
      expect(row.faults, 'faults injected').toBeGreaterThanOrEqual(scenario.minFaults)

      let result: { key: string; uploadId: string }
      if (scenario.expect === 'complete') {
        if ('error' in outcome) expect.fail(`${scenario.id}: the upload should ride out this fault, but failed: ${explain(outcome.error)}`)
        result = outcome.result
      } else {
        if (!('error' in outcome)) expect.fail(`${scenario.id}: a 500 from complete must not be retried, but the upload completed`)
        const { error } = outcome
        expect(isValetError(error) && [error.code, error.context.status], explain(error)).toEqual(['server_error', 500])
        // Typed, and resumable: nothing committed, the state names the upload.
        expect(await storage.read(created!.response.key)).toBeUndefined()
        expect([...store.states.values()].map((s) => s.uploadId)).toEqual([created!.response.uploadId])
        stack.keyProxy.rules = []
        const puts = stack.proxy.stats.partPuts
        result = await createUploader(options).upload(DATA, { name: `${scenario.id}.bin` }).done
        expect(result.uploadId).toBe(created!.response.uploadId)
        // Every part was stored and listed: the rerun only completes.
        expect(stack.proxy.stats.partPuts).toBe(puts)
        row.outcome += '; resumed: complete'
        row.partPuts = stack.proxy.stats.partPuts
        row.ms = Date.now() - t0
      }

      if (scenario.shortKeys) {
        const [outage] = stack.keyProxy.stats.outages
        expect(outage?.to, 'the key server went down mid-upload and came back').toBeDefined()
        expect(outage!.to! - outage!.from).toBeGreaterThanOrEqual(5000)
        // The keys the rest of the upload needed came after the outage...
        expect(stack.keys.of('sign').some((c) => c.at >= outage!.to! && c.status === 200)).toBe(true)
        // ...and no PUT went out on an expired key meanwhile.
        for (const p of stack.proxy.stats.parts) {
          expect(p.arrivedAt, `part ${p.partNumber} attempt ${p.attempt} on an expired key`).toBeLessThan(p.keyExpiresAt!)
        }
      }
      await expectStored(storage, result.key, { size: SIZE, sha256: DATA_SHA256 })
      expect(completeCallsNameEveryPart(stack.keys.calls)).toEqual({ ok: true, detail: '' })
      expect(store.states.size).toBe(0)
      row.outcome += ', sha256 ok'
      row.passed = true
    } finally {
      await stack.close()
    }
  }
})
