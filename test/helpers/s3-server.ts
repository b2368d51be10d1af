/**
 * A local S3-compatible server for the backups' S3 storage (s3rver, from the npm registry): in process, on a
 * free loopback port, its objects in a temporary folder, one bucket made. The AWS SDK signs with the
 * credentials s3rver accepts by default.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import S3rver from 's3rver'

export interface TestS3 {
  readonly endpoint: string
  readonly bucket: string
  close(): Promise<void>
}

/**
 * The AWS SDK's environment while a test runs: the credentials s3rver takes, and its Node-version notice off
 * (as Gantry turns it off for its own clients).
 */
export const S3RVER_ENV = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }

export async function startS3(bucket = 'gantry-backups'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'gantry-s3-'))
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory, silent: true, configureBuckets: [{ name: bucket }] })
  const { port } = await server.run()
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    async close() {
      await server.close()
      rmSync(directory, { recursive: true, force: true })
    },
  }
}
