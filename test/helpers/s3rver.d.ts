/** s3rver (a local S3-compatible server for tests) publishes no types: what the tests use of it. */
declare module 's3rver' {
  export default class S3rver {
    constructor(options: { port?: number; address?: string; directory: string; silent?: boolean; configureBuckets?: Array<{ name: string }> })
    run(): Promise<{ address: string; port: number }>
    close(): Promise<void>
  }
}
