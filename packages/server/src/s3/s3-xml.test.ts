import { describe, expect, it } from 'vitest'
import { decodeXml, escapeXml, parseS3Error, xmlElements, xmlRoot, xmlText } from './s3-xml.js'

describe('s3 xml', () => {
  it('decodes entities, character references and CDATA', () => {
    expect(decodeXml('&quot;abc&quot;')).toBe('"abc"')
    expect(decodeXml('a &amp;lt; b')).toBe('a &lt; b')
    expect(decodeXml('&#34;x&#x22; &apos;&lt;&gt;')).toBe(`"x" '<>`)
    expect(decodeXml('<![CDATA[a &amp; b]]>')).toBe('a &amp; b')
    expect(decodeXml('&unknown; &#xFFFFFFF;')).toBe('&unknown; &#xFFFFFFF;')
  })

  it('escapes text nodes', () => {
    expect(escapeXml('"a"&<b>')).toBe('"a"&amp;&lt;b&gt;')
    expect(decodeXml(escapeXml('&quot; <x> &'))).toBe('&quot; <x> &')
  })

  it('tells <Part> from <PartNumber> and <PartNumberMarker>', () => {
    const xml =
      '<ListPartsResult><PartNumberMarker>0</PartNumberMarker><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag></Part>' +
      '<Part ><PartNumber>2</PartNumber><ETag>"b"</ETag></Part><Part/></ListPartsResult>'
    const parts = xmlElements(xml, 'Part')
    expect(parts).toHaveLength(3)
    expect(parts.map((p) => xmlText(p, 'ETag'))).toEqual(['"a"', '"b"', undefined])
    expect(xmlText(xml, 'PartNumberMarker')).toBe('0')
    expect(xmlText(xml, 'PartNumber')).toBe('1')
    expect(xmlText(xml, 'Missing')).toBeUndefined()
  })

  it('reads elements with attributes and empty elements', () => {
    expect(xmlText('<A xmlns="x"> v </A>', 'A')).toBe(' v ')
    expect(xmlText('<A/>', 'A')).toBe('')
    expect(xmlText('<A></A >', 'A')).toBe('')
  })

  it('finds the root element past the declaration, whitespace and comments', () => {
    expect(xmlRoot('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>X</Code></Error>')).toBe('Error')
    // S3 keeps a Complete connection alive with whitespace before the final document.
    expect(xmlRoot('\n   \n   \n<CompleteMultipartUploadResult/>')).toBe('CompleteMultipartUploadResult')
    expect(xmlRoot('\uFEFF<!-- c --><Error/>')).toBe('Error')
    expect(xmlRoot('')).toBeUndefined()
    expect(xmlRoot('not xml')).toBeUndefined()
  })

  it('parses S3 <Error> documents only', () => {
    expect(
      parseS3Error(
        '<?xml version="1.0"?>\n<Error><Code>NoSuchUpload</Code><Message>The upload &quot;x&quot; does not exist</Message><RequestId>r1</RequestId></Error>',
      ),
    ).toEqual({ code: 'NoSuchUpload', message: 'The upload "x" does not exist', requestId: 'r1' })
    expect(parseS3Error('<CompleteMultipartUploadResult><Code>x</Code></CompleteMultipartUploadResult>')).toBeUndefined()
    expect(parseS3Error('<Error><Message>no code</Message></Error>')).toBeUndefined()
    expect(parseS3Error('')).toBeUndefined()
  })
})
