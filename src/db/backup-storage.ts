/**
 * S3-compatible storage for backups (`backups.s3`): each backup is uploaded after it is written to
 * backups.directory, retention deletes there what it deletes locally, and `db restore s3://BUCKET/KEY`
 * downloads one first. The AWS SDK's S3 client does the protocol (multipart uploads through lib-storage),
 * loaded only when a backup needs it: it is large, and no other command should pay for it. Credentials come
 * from the SDK's own chain (environment, profile, instance role), never from the config file.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { basename } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { S3Client } from '@aws-sdk/client-s3'
import type { Environment } from '../config/schema.js'
import { GantryError } from '../core/errors.js'

export type S3Settings = NonNullable<Environment['backups']['s3']>

/** Where a backup lies in a bucket. */
export interface S3Location {
  readonly bucket: string
  readonly key: string
}

export const isS3Url = (text: string): boolean => text.startsWith('s3://')

/** `s3://BUCKET/KEY` read; INVALID_INPUT naming the form when it is not one. */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(url)
  if (!match) {
    throw new GantryError('INVALID_INPUT', `${JSON.stringify(url)} is not an S3 location: expected s3://BUCKET/KEY.`, {
      details: { fields: ['file'], reason: 's3-url' },
    })
  }
  return { bucket: match[1] as string, key: match[2] as string }
}

const urlOf = (location: S3Location): string => `s3://${location.bucket}/${location.key}`

/** Where `file` goes in the bucket: the prefix, then its name. */
export const uploadLocation = (settings: S3Settings, file: string): S3Location => ({ bucket: settings.bucket, key: `${settings.prefix}${basename(file)}` })

async function clientFor(settings: S3Settings | undefined): Promise<S3Client> {
  // The SDK warns on every Node below 22 about its releases after January 2027; the lock file pins this one.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const { S3Client } = await import('@aws-sdk/client-s3')
  return new S3Client({
    region: settings?.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(settings?.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings?.forcePathStyle ?? false,
  })
}

/** Runs one storage call; its failure is BACKUP_STORAGE_FAILED naming the operation and the location. */
async function storage<T>(what: string, location: S3Location, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof GantryError) throw err
    const e = err as { name?: string; message?: string }
    throw new GantryError('BACKUP_STORAGE_FAILED', `${what} ${urlOf(location)} failed: ${e.name ?? 'Error'}: ${e.message ?? String(err)}`, {
      cause: err,
      details: { location: urlOf(location) },
    })
  }
}

/** Uploads the backup `file` (multipart when large); answers its s3:// location. */
export async function uploadBackup(settings: S3Settings, file: string): Promise<string> {
  const location = uploadLocation(settings, file)
  const client = await clientFor(settings)
  try {
    await storage('Upload to', location, async () => {
      const { Upload } = await import('@aws-sdk/lib-storage')
      const body = createReadStream(file)
      await new Upload({ client, params: { Bucket: location.bucket, Key: location.key, Body: body, ContentType: 'application/octet-stream' } }).done()
    })
  } finally {
    client.destroy()
  }
  return urlOf(location)
}

/** Downloads the backup at `url` into `dest` (a new file, mode 0600). */
export async function downloadBackup(settings: S3Settings | undefined, url: string, dest: string): Promise<void> {
  const location = parseS3Url(url)
  const client = await clientFor(settings)
  try {
    await storage('Download of', location, async () => {
      const { GetObjectCommand } = await import('@aws-sdk/client-s3')
      const { Body } = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }))
      if (!(Body instanceof Readable)) throw new Error('the answer has no body')
      await pipeline(Body, createWriteStream(dest, { flags: 'wx', mode: 0o600 }))
    })
  } finally {
    client.destroy()
  }
}

/** Deletes the uploaded copies of the backups named `names` (file names, as retention deleted them locally). */
export async function deleteUploaded(settings: S3Settings, names: readonly string[]): Promise<void> {
  if (names.length === 0) return
  const client = await clientFor(settings)
  try {
    const { DeleteObjectsCommand } = await import('@aws-sdk/client-s3')
    for (let i = 0; i < names.length; i += 1000) {
      const keys = names.slice(i, i + 1000).map((name) => uploadLocation(settings, name).key)
      await storage('Delete in', { bucket: settings.bucket, key: settings.prefix }, async () => {
        const answer = await client.send(new DeleteObjectsCommand({ Bucket: settings.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }))
        const failed = answer.Errors?.[0]
        if (failed) throw new Error(`${failed.Key}: ${failed.Code ?? ''} ${failed.Message ?? ''}`.trim())
      })
    }
  } finally {
    client.destroy()
  }
}
