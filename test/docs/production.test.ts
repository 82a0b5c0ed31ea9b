/**
 * docs/production.md's IAM policy against the s3 provider's code: every S3 operation the provider
 * sends (`operation: '…'` in packages/server/src/s3/) maps to the IAM action it needs, and the
 * policy grants exactly those actions. A new operation without a mapping fails here, asking for one.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** S3 API operation → the IAM action that authorizes it (AWS's "Actions defined by Amazon S3"). */
const ACTION_OF: Record<string, string> = {
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  ListParts: 's3:ListMultipartUploadParts',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  HeadObject: 's3:GetObject',
  GetObject: 's3:GetObject',
  PutObject: 's3:PutObject',
  DeleteObject: 's3:DeleteObject',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
  ListObjectsV2: 's3:ListBucket',
}

it('the IAM policy in docs/production.md grants exactly the actions the s3 provider uses', async () => {
  const dir = join(ROOT, 'packages/server/src/s3')
  const operations = new Set<string>(['UploadPart']) // presigned, not sent by the server
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    for (const m of (await readFile(join(dir, file), 'utf8')).matchAll(/operation: '(\w+)'/g)) operations.add(m[1]!)
  }
  const unmapped = [...operations].filter((o) => !(o in ACTION_OF))
  expect(unmapped, 'map these S3 operations to IAM actions in test/docs/production.test.ts').toEqual([])
  const needed = [...new Set([...operations].map((o) => ACTION_OF[o]!))].sort()

  const doc = await readFile(join(ROOT, 'docs/production.md'), 'utf8')
  const block = /<!-- iam-policy -->\s*```json\n([\s\S]*?)```/.exec(doc)
  expect(block, 'docs/production.md has the IAM policy between <!-- iam-policy --> markers').not.toBeNull()
  const policy = JSON.parse(block![1]!) as { Statement: { Action: string[] }[] }
  const granted = [...new Set(policy.Statement.flatMap((s) => s.Action))].sort()
  expect(granted).toEqual(needed)
})
