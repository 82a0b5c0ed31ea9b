import { describe, expect, it } from 'vitest'
import { isValetError } from '@valet/protocol'
import { assertAzureSdk } from './azure-sdk.js'

describe('assertAzureSdk', () => {
  it('passes when @azure/storage-blob resolves (it is a devDependency here)', () => {
    expect(() => assertAzureSdk()).not.toThrow()
  })

  it('names the package and how to install it when it does not', () => {
    const missing = Object.assign(new Error("Cannot find module '@azure/storage-blob'"), { code: 'MODULE_NOT_FOUND' })
    let error: unknown
    try {
      assertAzureSdk(() => {
        throw missing
      })
    } catch (e) {
      error = e
    }
    expect(isValetError(error) && error.code).toBe('invalid_option')
    expect(isValetError(error) && error.context).toEqual({ option: 'options', owner: 'azure()', package: '@azure/storage-blob' })
    expect((error as Error).message).toContain('@azure/storage-blob')
    expect((error as Error).message).toContain('npm install @azure/storage-blob')
    expect((error as Error).cause).toBe(missing)
  })
})
