/**
 * Just enough XML for the few S3 responses Valet reads (InitiateMultipartUploadResult,
 * ListPartsResult, CompleteMultipartUploadResult, Error) and the one body it writes. These
 * documents are flat, unprefixed and attribute-free where it matters, so tag matching is
 * reliable and avoids shipping an XML parser to every runtime.
 */

const NAMED_ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" }

/** Decodes the five XML entities, numeric character references and CDATA sections. */
export function decodeXml(text: string): string {
  return text.replace(/<!\[CDATA\[([\s\S]*?)\]\]>|&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (match, cdata: string | undefined, ref: string | undefined) => {
    if (cdata !== undefined) return cdata
    const r = ref as string
    if (r[0] === '#') {
      const code = r[1] === 'x' || r[1] === 'X' ? parseInt(r.slice(2), 16) : parseInt(r.slice(1), 10)
      return code <= 0x10ffff ? String.fromCodePoint(code) : match
    }
    return NAMED_ENTITIES[r.toLowerCase()] ?? match
  })
}

/** Escapes text for an XML text node. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'))
}

function elementPattern(tag: string, flags: string): RegExp {
  // `<Part>` must not match `<PartNumber>`: the name ends at whitespace, `>` or `/>`.
  return new RegExp(`<${tag}(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</${tag}\\s*>)`, flags)
}

/** Raw inner XML of every `<tag>` element, in document order (elements must not nest in themselves). */
export function xmlElements(xml: string, tag: string): string[] {
  return [...xml.matchAll(elementPattern(tag, 'g'))].map((m) => m[1] ?? '')
}

/** Decoded text of the first `<tag>` element, or `undefined` when there is none. */
export function xmlText(xml: string, tag: string): string | undefined {
  const m = elementPattern(tag, '').exec(xml)
  return m === null ? undefined : decodeXml(m[1] ?? '')
}

/**
 * Name of the document's root element. S3 may answer `200 OK` and stream whitespace while it
 * works, then an `<Error>`: the root name, not the status, tells success from failure.
 */
export function xmlRoot(xml: string): string | undefined {
  const body = xml.replace(/^\uFEFF/, '').replace(/^(?:\s+|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)+/, '')
  return /^<([A-Za-z_][\w.:-]*)/.exec(body)?.[1]
}

/** The `Code` and `Message` of an S3 `<Error>` document, if `xml` is one. */
export function parseS3Error(xml: string): { code: string; message: string | undefined; requestId: string | undefined } | undefined {
  if (xmlRoot(xml) !== 'Error') return undefined
  const code = xmlText(xml, 'Code')
  if (code === undefined || code === '') return undefined
  return { code, message: xmlText(xml, 'Message'), requestId: xmlText(xml, 'RequestId') }
}
