import { toNextHandlers } from '@valet/server/next'
import { valet } from '../../../../lib/valet'

// Node runtime: signing happens here; S3 signing also works on 'edge'.
export const runtime = 'nodejs'
export const { GET, POST, DELETE } = toNextHandlers(valet)
