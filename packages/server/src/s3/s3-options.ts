/** Options of the S3 provider and their one-time normalization. */
import { OptionReader } from '@valet/protocol'

/** Long-lived or temporary (STS) credentials that may sign S3 requests for the bucket. */
export interface S3Credentials {
  /** Access key id, e.g. `AKIA...` (Swift s3api with tempauth: `account:user`). */
  accessKeyId: string
  /** Secret access key. Never leaves the server; only signatures derived from it do. */
  secretAccessKey: string
  /**
   * Session token of temporary credentials. It is sent with every request and embedded in
   * every presigned part URL (`X-Amz-Security-Token`), so keys die with the session.
   * @default undefined
   */
  sessionToken?: string
}

/**
 * Where and how to reach an S3-compatible bucket.
 *
 * @example
 * ```ts
 * s3({ region: 'eu-west-1', bucket: 'uploads', credentials: { accessKeyId, secretAccessKey } })
 * s3({ endpoint: 'http://127.0.0.1:9000', bucket: 'uploads', credentials, forcePathStyle: true }) // MinIO
 * ```
 */
export interface S3Options {
  /**
   * Base URL of the S3 API, `http:` or `https:`, without the bucket. A path is allowed (it is
   * kept as a prefix); a query or fragment is not.
   * @default `https://s3.${region}.amazonaws.com`
   */
  endpoint?: string
  /**
   * Region that goes into the SigV4 credential scope. S3-compatibles often accept anything
   * (`us-east-1` for Swift and MinIO, `auto` for R2).
   * @default 'us-east-1'
   */
  region?: string
  /** Bucket that receives the objects. It must exist. */
  bucket: string
  /** Credentials allowed to create, list, complete and abort multipart uploads in the bucket. */
  credentials: S3Credentials
  /**
   * Address the bucket in the path (`endpoint/bucket/key`) instead of the host name
   * (`bucket.endpoint/key`). Needed for Swift s3api, MinIO, and any endpoint given as an IP
   * address or without wildcard DNS.
   * @default false
   */
  forcePathStyle?: boolean
}

/** {@link S3Options} after validation, with every default applied. */
export interface ResolvedS3Options {
  /** `http:` or `https:`. */
  protocol: string
  /** Host of the endpoint with its port if not the default: `s3.eu-west-1.amazonaws.com`. */
  host: string
  /** Path prefix of the endpoint without a trailing slash; usually `''`. */
  basePath: string
  region: string
  bucket: string
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string | undefined
  forcePathStyle: boolean
}

// S3 bucket naming rules; dots are allowed but make virtual-hosted TLS certificates fail on AWS.
const DNS_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const REGION = /^[a-z0-9-]{1,64}$/i
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/
// A name or key copied with a space around it signs requests storage then refuses.
const TRIMMED = /^\S(?:.*\S)?$/s

/**
 * Validates `options` and applies the defaults. Pure: call it once, when the provider is built,
 * so a misconfiguration fails at startup rather than on the first upload. Throws
 * `ValetError('invalid_option')` naming the bad option; secrets never appear in messages.
 */
export function normalizeS3Options(options: S3Options): ResolvedS3Options {
  // Typed, so the checker knows `read.fail()` never returns.
  const read: OptionReader = new OptionReader('s3()', options)
  const region = read.string('region', { fallback: 'us-east-1', pattern: REGION, hint: 'a region name such as "us-east-1"' })
  const bucket = read.string('bucket', { required: true, pattern: TRIMMED, hint: 'the name of an existing bucket, without spaces around it' })
  const forcePathStyle = read.boolean('forcePathStyle', false)
  const endpoint = read.httpUrl('endpoint', `https://s3.${region}.amazonaws.com`)

  if (bucket.includes('/')) read.fail('bucket', 'must not contain "/"')
  if (!forcePathStyle) {
    if (!DNS_BUCKET.test(bucket) || bucket.includes('..')) {
      read.fail('bucket', 'must be a DNS-compatible name (3-63 of a-z 0-9 . -) for virtual-hosted addressing; set `forcePathStyle: true` otherwise')
    }
    if (IPV4.test(endpoint.hostname) || endpoint.hostname.startsWith('[')) {
      read.fail('forcePathStyle', 'must be true when `endpoint` is an IP address (a bucket cannot be a subdomain of it)')
    }
  }

  const credentials = read.nested('credentials', '{ accessKeyId, secretAccessKey }')
  const key = (what: string) => ({ pattern: TRIMMED, hint: `${what}, without spaces around it`, secret: true })
  return {
    protocol: endpoint.protocol,
    host: endpoint.host,
    basePath: endpoint.pathname.replace(/\/+$/, ''),
    region,
    bucket,
    accessKeyId: credentials.string('accessKeyId', { required: true, ...key('the access key id') }),
    secretAccessKey: credentials.string('secretAccessKey', { required: true, ...key('the secret access key') }),
    sessionToken: credentials.string('sessionToken', key('the session token of temporary credentials')),
    forcePathStyle,
  }
}
