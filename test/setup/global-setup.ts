import type { TestProject } from 'vitest/node'
import { startSwift, type SwiftServer } from '../../scripts/swift/start.mjs'
import { startAzurite, type AzuriteServer } from '../../scripts/azurite/start.mjs'

export type SwiftInfo = Omit<SwiftServer, 'stop'>
export type AzuriteInfo = Omit<AzuriteServer, 'stop'>

declare module 'vitest' {
  export interface ProvidedContext {
    swift: SwiftInfo
    azurite: AzuriteInfo
  }
}

/**
 * Starts real storage once for the integration project: OpenStack Swift with s3api and Azurite,
 * each on 127.0.0.1 and a free port. A storage that cannot start fails the run (never a skip).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started: { stop(): Promise<void> }[] = []
  const stopAll = async () => {
    await Promise.allSettled(started.map((s) => s.stop()))
  }
  try {
    const t0 = Date.now()
    const [swift, azurite] = await Promise.all([
      startSwift().then((s) => (started.push(s), s)),
      startAzurite().then((s) => (started.push(s), s)),
    ])
    const { stop: _s, ...swiftInfo } = swift
    const { stop: _a, ...azuriteInfo } = azurite
    project.provide('swift', swiftInfo)
    project.provide('azurite', azuriteInfo)
    console.log(`[valet] storage up in ${Date.now() - t0} ms: swift ${swift.endpoint}, azurite ${azurite.endpoint}`)
  } catch (error) {
    await stopAll()
    throw error
  }
  return stopAll
}
