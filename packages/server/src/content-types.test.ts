import { describe, expect, it } from 'vitest'
import { ACTIVE_CONTENT_TYPES, isActiveContent, typeMatcher } from './content-types.js'

describe('typeMatcher', () => {
  it('never lets a wildcard admit a script-capable type; listing it exactly does', () => {
    const wide = typeMatcher(['*/*', 'image/*', 'text/*', 'application/*'])
    for (const type of ACTIVE_CONTENT_TYPES) expect(wide(type), type).toBe(false)
    expect(wide('application/rss+xml')).toBe(false)
    expect(wide('image/png')).toBe(true)
    expect(typeMatcher(['image/svg+xml'])('image/svg+xml')).toBe(true)
    expect(typeMatcher(['image/*'])('video/mp4')).toBe(false)
  })

  it('knows the active types, parameters and case aside', () => {
    expect(isActiveContent('Text/HTML; charset=utf-8')).toBe(true)
    expect(isActiveContent('image/png')).toBe(false)
  })
})
