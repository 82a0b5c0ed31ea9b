import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { autoPartSize, azureLimits, DEFAULT_PART_SIZE, GiB, MAX_AUTO_PART_SIZE, MiB, partRange, partSizeOf, planParts, s3Limits, TiB } from './limits.js'
import { isValetError } from './errors.js'

describe('planParts', () => {
  it('uses the requested size, at least 5 MiB', () => {
    expect(planParts(20 * MiB, 8 * MiB)).toEqual({ size: 20 * MiB, partSize: 8 * MiB, partCount: 3 })
    expect(planParts(1, 1)).toEqual({ size: 1, partSize: 5 * MiB, partCount: 1 })
  })

  it('plans smaller parts only where the limits lower the planned minimum (the in-memory test provider)', () => {
    const small = { ...azureLimits, minPlannedPartSize: 1 }
    expect(planParts(8000, 1000, small)).toEqual({ size: 8000, partSize: 1000, partCount: 8 })
    // Still never under the provider's own minimum.
    expect(planParts(8000, 1000, { ...s3Limits, minPlannedPartSize: 1 }).partSize).toBe(5 * MiB)
    expect(planParts(8000, 1000, azureLimits).partSize).toBe(5 * MiB)
  })

  it('grows parts to fit 10,000 for a 5 TiB file', () => {
    const plan = planParts(5 * TiB, 8 * MiB)
    expect(plan.partCount).toBeLessThanOrEqual(10_000)
    expect(plan.partSize).toBe(Math.ceil((5 * TiB) / 10_000))
  })

  it("plans S3's largest object (48.8 TiB = 10,000 × 5 GiB) in 5 GiB parts, whatever was asked", () => {
    expect(s3Limits.maxObjectSize).toBe(10_000 * 5 * GiB)
    expect((s3Limits.maxObjectSize / TiB).toFixed(1)).toBe('48.8')
    for (const asked of [undefined, 8 * MiB, 6 * GiB]) {
      expect(planParts(s3Limits.maxObjectSize, asked)).toEqual({ size: s3Limits.maxObjectSize, partSize: 5 * GiB, partCount: 10_000 })
    }
  })

  it('sizes parts to the file when none is asked for: 8 MiB doubling to 64 MiB, then what 10,000 parts need', () => {
    const auto = (size: number) => planParts(size).partSize
    expect(auto(1)).toBe(DEFAULT_PART_SIZE)
    expect(auto(128 * MiB)).toBe(8 * MiB)
    expect(auto(128 * MiB + 1)).toBe(16 * MiB)
    expect(auto(512 * MiB)).toBe(32 * MiB)
    expect(auto(GiB)).toBe(64 * MiB)
    expect(auto(2 * GiB)).toBe(64 * MiB)
    expect(auto(10_000 * 64 * MiB)).toBe(64 * MiB)
    expect(auto(10_000 * 64 * MiB + 1)).toBe(Math.ceil((10_000 * 64 * MiB + 1) / 10_000))
    expect(auto(5 * TiB)).toBe(Math.ceil((5 * TiB) / 10_000))
    // Never above the memory cap where the part count doesn't need it, never more than 16 parts below it.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 * MAX_AUTO_PART_SIZE }), (size) => {
        const partSize = autoPartSize(size)
        expect(partSize).toBeGreaterThanOrEqual(DEFAULT_PART_SIZE)
        expect(partSize).toBeLessThanOrEqual(MAX_AUTO_PART_SIZE)
        if (partSize < MAX_AUTO_PART_SIZE) expect(Math.ceil(size / partSize)).toBeLessThanOrEqual(16)
        if (partSize > DEFAULT_PART_SIZE) expect(Math.ceil(size / (partSize / 2))).toBeGreaterThan(16)
      }),
    )
  })

  it('lets an asked part size win within the limits, even below the auto size', () => {
    expect(planParts(2 * GiB, 8 * MiB).partSize).toBe(8 * MiB)
    expect(planParts(2 * GiB, 128 * MiB).partSize).toBe(128 * MiB)
    expect(planParts(20 * MiB, 6 * GiB).partSize).toBe(5 * GiB)
  })

  it('refuses sizes storage cannot hold', () => {
    expect(() => planParts(s3Limits.maxObjectSize + 1)).toThrow(/exceeds/)
    expect(() => planParts(0)).toThrow(/positive integer/)
  })

  it('gives every input a typed error or a valid plan (property)', () => {
    const anySize = fc.oneof(fc.integer({ min: -10, max: 100 * MiB }), fc.double(), fc.bigInt().map(Number), fc.constantFrom(NaN, Infinity, 5 * TiB, 5 * TiB + 1, s3Limits.maxObjectSize, s3Limits.maxObjectSize + 1, Number.MAX_SAFE_INTEGER))
    const anyPart = fc.oneof(fc.integer({ min: -10, max: 6 * GiB }), fc.double(), fc.constant(undefined))
    fc.assert(
      fc.property(anySize, anyPart, fc.constantFrom(s3Limits, azureLimits), (size, partSize, limits) => {
        let plan
        try {
          plan = planParts(size, partSize, limits)
        } catch (error) {
          expect(isValetError(error)).toBe(true)
          return
        }
        expect(plan.partCount).toBeGreaterThanOrEqual(1)
        expect(plan.partCount).toBeLessThanOrEqual(limits.maxParts)
        expect(plan.partSize).toBeGreaterThanOrEqual(Math.max(limits.minPartSize, 5 * MiB))
        expect(plan.partSize).toBeLessThanOrEqual(limits.maxPartSize)
        const last = partSizeOf(plan, plan.partCount)
        expect(last).toBeGreaterThan(0)
        expect(last).toBeLessThanOrEqual(plan.partSize)
        expect(plan.partSize * (plan.partCount - 1) + last).toBe(size)
        expect(partRange(plan, plan.partCount).end).toBe(size)
      }),
      { numRuns: 2000 },
    )
  })

  it('refuses part numbers outside the plan', () => {
    const plan = planParts(20 * MiB, 8 * MiB)
    for (const n of [0, -1, 1.5, 4, NaN]) expect(() => partSizeOf(plan, n)).toThrow(/outside the plan/)
  })
})
