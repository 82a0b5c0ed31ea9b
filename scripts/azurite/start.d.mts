export interface AzuriteServer {
  endpoint: string
  accountName: string
  accountKey: string
  container: string
  dir: string
  port: number
  startupMs: number
  stop(): Promise<void>
}
export const AZURITE_ACCOUNT_NAME: string
export const AZURITE_ACCOUNT_KEY: string
export const DEFAULT_CONTAINER: string
export function startAzurite(options?: { dir?: string; port?: number; container?: string; cors?: boolean }): Promise<AzuriteServer>
