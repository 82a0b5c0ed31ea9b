/** Direct S3 calls on the test Swift, outside Valet: a presigned PutObject for the raw baseline, and cleanup. */
import { AwsClient, AwsV4Signer } from 'aws4fetch'
import { inject } from 'vitest'

function objectUrl(key: string): string {
  const info = inject('swift')
  return `${info.endpoint}/${info.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`
}

/** A presigned single PutObject URL: what a browser's raw `fetch` PUT of the whole file uses. */
export async function presignPut(key: string, expires = 3600): Promise<string> {
  const info = inject('swift')
  const url = new URL(objectUrl(key))
  // aws4fetch builds the canonical query in its constructor: the expiry must be on the URL first.
  url.searchParams.set('X-Amz-Expires', String(expires))
  const signer = new AwsV4Signer({
    method: 'PUT',
    url: url.toString(),
    accessKeyId: info.accessKeyId,
    secretAccessKey: info.secretAccessKey,
    service: 's3',
    region: info.region,
    signQuery: true,
  })
  return (await signer.sign()).url.toString()
}

/** Deletes an object (s3api removes a multipart object's segments too), keeping Swift's disk small. */
export async function deleteObject(key: string): Promise<void> {
  const info = inject('swift')
  const aws = new AwsClient({ accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey, region: info.region, service: 's3' })
  const res = await aws.fetch(objectUrl(key), { method: 'DELETE' })
  await res.arrayBuffer()
  if (res.status !== 204 && res.status !== 404) throw new Error(`DELETE ${key}: HTTP ${res.status}`)
}

/**
 * A key-endpoint rewrite that spoils the signature of part 1's key in the first sign answer:
 * Swift then refuses that PUT with a 403 that carries no CORS headers.
 */
export function spoilFirstKey(): { rewrite(path: string, method: string, body: unknown): unknown; readonly url: string | undefined } {
  let url: string | undefined
  return {
    get url() {
      return url
    },
    rewrite(path, method, body) {
      const parts = (body as { parts?: { partNumber: number; url?: string }[] }).parts
      const one = parts?.find((p) => p.partNumber === 1 && p.url)
      if (url !== undefined || method !== 'POST' || !path.endsWith('/parts') || one?.url === undefined) return body
      const spoiled = new URL(one.url)
      const signature = spoiled.searchParams.get('X-Amz-Signature') ?? ''
      spoiled.searchParams.set('X-Amz-Signature', `${signature.startsWith('0') ? '1' : '0'}${signature.slice(1)}`)
      one.url = url = spoiled.toString()
      return body
    },
  }
}
