/**
 * ETags as storage sends them: S3 quotes them (`"9b2c…"`), some proxies mark them weak (`W/`),
 * Azure part etags are bare base64. One normal form for every comparison.
 */

/** The ETag without `W/`, surrounding quotes or whitespace. */
export function bareEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1')
}

/** Whether two ETags name the same content, ignoring quotes and hex case. */
export function sameEtag(a: string, b: string): boolean {
  return bareEtag(a).toLowerCase() === bareEtag(b).toLowerCase()
}
