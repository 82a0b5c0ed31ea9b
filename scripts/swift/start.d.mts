export interface SwiftServer {
  endpoint: string
  region: string
  bucket: string
  accessKeyId: string
  secretAccessKey: string
  dir: string
  stop(): Promise<void>
}
export function startSwift(options?: { dir?: string; corsOrigin?: string }): Promise<SwiftServer>
