// A real S3 API over HTTP for the tests (s3rver 3.7), in a child process.
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../lib/adapters/postgres/throwaway.ts'

export const TEST_BUCKET = 'lifeboat-test'

export interface S3Server {
  endpoint: string
  stop(): Promise<void>
}

/** `buckets`: created at start (the Storage stand-ins start with none and create their own). */
export async function startS3Server(
  parent = '.tmp',
  buckets: readonly string[] = [TEST_BUCKET],
): Promise<S3Server> {
  await mkdir(resolve(parent), { recursive: true })
  const directory = await mkdtemp(join(resolve(parent), 's3-'))
  const port = await freePort()
  const main = fileURLToPath(new URL('./s3rver-main.mjs', import.meta.url))
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', main, directory, String(port), ...buckets],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  await new Promise<void>((ready, fail) => {
    child.once('exit', (code) => fail(new Error(`s3rver exited with ${code}`)))
    child.stdout.once('data', () => ready())
  })
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM')
      await new Promise((done) => child.once('exit', done))
      await rm(directory, { recursive: true, force: true })
    },
  }
}

/** Environment for a job that uses the S3 API server (s3rver accepts any key pair). */
export function s3Env(endpoint: string, prefix: string): Record<string, string> {
  return {
    BACKUP_STORE: `s3://${TEST_BUCKET}/${prefix}`,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  }
}
