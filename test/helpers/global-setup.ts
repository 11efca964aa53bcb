// Starts the real services the integration tests use, once per run: a PostgreSQL
// server (or TEST_DATABASE_URL) and an S3 API server. Tests read them with inject().
import type { TestProject } from 'vitest/node'
import { startThrowawayPostgres } from '../../lib/adapters/postgres/throwaway.ts'
import { startS3Server } from './s3-server.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
    s3Endpoint: string
  }
}

export default async function setup(project: TestProject) {
  const external = process.env.TEST_DATABASE_URL
  const postgres = external ? undefined : await startThrowawayPostgres()
  const s3 = await startS3Server()
  project.provide('databaseUrl', external ?? postgres!.url)
  project.provide('s3Endpoint', s3.endpoint)
  return async () => {
    await s3.stop()
    await postgres?.stop()
  }
}
