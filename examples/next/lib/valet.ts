import { createValet } from '@valet/server'
import { s3 } from '@valet/server/s3'

/**
 * Bucket in the path (`endpoint/bucket/key`) for endpoints that can't have a bucket subdomain:
 * an IP address or localhost (MinIO, Swift, a port-forward). S3_FORCE_PATH_STYLE=true|false wins.
 */
function pathStyle(endpoint: string | undefined, force: string | undefined): boolean {
  if (force !== undefined) return force === 'true'
  if (!endpoint) return false
  const host = new URL(endpoint).hostname
  return host === 'localhost' || /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith('[')
}

/** One key endpoint for the whole app. Configure storage with the environment variables below. */
export const valet = createValet({
  storage: s3({
    endpoint: process.env.S3_ENDPOINT,
    region: process.env.S3_REGION ?? 'us-east-1',
    bucket: process.env.S3_BUCKET!,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY! },
    forcePathStyle: pathStyle(process.env.S3_ENDPOINT, process.env.S3_FORCE_PATH_STYLE),
  }),
  secret: process.env.VALET_SECRET!,
  // Next's own session: read the cookie your auth library sets (here a demo bearer or cookie).
  authorize: (request) => {
    const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? request.headers.get('cookie')?.match(/session=([^;]+)/)?.[1]
    return token === 'demo-alice' ? { id: 'alice' } : null
  },
})
