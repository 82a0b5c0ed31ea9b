import { describe, expect, it } from 'vitest'
import { guessType } from './guess-type.js'

describe('guessType', () => {
  it('maps common extensions case-insensitively, else returns an empty string', () => {
    expect(guessType('Holiday.JPG')).toBe('image/jpeg')
    expect(guessType('archive.tar.gz')).toBe('application/gzip')
    expect(guessType('notes')).toBe('')
    expect(guessType('weird.')).toBe('')
    expect(guessType('data.xyz123')).toBe('')
  })
})
