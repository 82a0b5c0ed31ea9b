/**
 * The key endpoint every example mounts. Storage comes from the environment (S3_* or AZURE_*),
 * or, with nothing set, a local Azurite started here, so each example runs with no account.
 */
import { createValet } from '@valet/server'
import { s3 } from '@valet/server/s3'
import { azure } from '@valet/server/azure'
import { startAzurite } from '@valet/cli'
import { randomBytes } from 'node:crypto'

/** Demo users: in your app, look the bearer token or session cookie up in your session store. */
const DEMO_TOKENS = { 'demo-alice': { id: 'alice' }, 'demo-bob': { id: 'bob' } }

/** Reads `Authorization: Bearer <token>` — the header every framework passes through untouched. */
export function principalFromBearer(header) {
  const token = header?.match(/^Bearer (.+)$/)?.[1]
  return (token && DEMO_TOKENS[token]) || null
}

/**
 * Bucket in the path (`endpoint/bucket/key`) for endpoints that can't have a bucket subdomain:
 * an IP address or localhost (MinIO, Swift, a port-forward). S3_FORCE_PATH_STYLE=true|false wins.
 */
export function pathStyle(env) {
  if (env.S3_FORCE_PATH_STYLE !== undefined) return env.S3_FORCE_PATH_STYLE === 'true'
  if (!env.S3_ENDPOINT) return false
  const host = new URL(env.S3_ENDPOINT).hostname
  return host === 'localhost' || /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith('[')
}

async function storageFromEnv(env) {
  if (env.S3_BUCKET) {
    return {
      storage: s3({
        endpoint: env.S3_ENDPOINT,
        region: env.S3_REGION ?? 'us-east-1',
        bucket: env.S3_BUCKET,
        credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
        forcePathStyle: pathStyle(env),
      }),
      stop: async () => {},
    }
  }
  if (env.AZURE_STORAGE_ACCOUNT) {
    return {
      storage: azure({ accountName: env.AZURE_STORAGE_ACCOUNT, accountKey: env.AZURE_STORAGE_KEY, container: env.AZURE_CONTAINER ?? 'uploads' }),
      stop: async () => {},
    }
  }
  const local = await startAzurite({ dir: '.valet/azurite', container: 'uploads' })
  const { accountName, accountKey, container, endpoint } = local
  return { storage: azure({ accountName, accountKey, container, endpoint }), stop: () => local.stop() }
}

/**
 * @param {{ authorize: (request: Request) => any, env?: NodeJS.ProcessEnv }} options
 * @example const { valet, stop } = await exampleValet({ authorize: (r) => principalFromBearer(r.headers.get('authorization')) })
 */
export async function exampleValet({ authorize, env = process.env }) {
  const { storage, stop } = await storageFromEnv(env)
  const valet = createValet({
    storage,
    // A fixed secret lets uploads resume across restarts; generate one per deployment.
    secret: env.VALET_SECRET ?? randomBytes(32).toString('hex'),
    authorize,
    // Pages on another origin (a dev server, say) that may call this endpoint; Valet answers
    // their preflights and sets CORS headers for them only.
    allowedOrigins: [ALLOWED_ORIGIN],
    maxFileSize: 50 * 2 ** 30,
    onComplete: ({ principal, key, size }) => {
      console.log(`stored ${key} (${size} bytes) for ${principal.id}`)
      return { ok: true }
    },
  })
  return { valet, stop }
}

/** The origin allowed to call the key endpoint from a browser (the page is often elsewhere in dev). */
export const ALLOWED_ORIGIN = process.env.ALLOWED_ORIGIN ?? 'http://127.0.0.1:3000'
