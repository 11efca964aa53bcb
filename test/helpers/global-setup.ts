// Starts the real services the integration tests use, once per run and in parallel:
// plain PostgreSQL 15 (or TEST_DATABASE_URL) and 17, Supabase-shaped clusters on 15
// and 17 (test/helpers/supabase/), and an S3 API server. Tests read them with inject().
// At the end, what the run left in `.tmp` goes (archives, extracts, spools: a gigabyte a run).
import { readdir, rm, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { TestProject } from 'vitest/node'
import { startThrowawayPostgres } from '../../lib/adapters/postgres/throwaway.ts'
import { startS3Server } from './s3-server.ts'
import { type SupabaseClusterInfo, startSupabaseCluster } from './supabase/cluster.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Plain PostgreSQL 15, as its superuser `postgres`. */
    databaseUrl: string
    /** Plain PostgreSQL 17, as its superuser `postgres`. */
    databaseUrl17: string
    /** Supabase-shaped clusters (test/helpers/supabase/README.md). */
    supabase15: SupabaseClusterInfo
    supabase17: SupabaseClusterInfo
    s3Endpoint: string
  }
}

/** Waits for every start; if one fails, stops those that started and rethrows. */
async function startAll(starts: readonly Promise<{ stop(): Promise<void> } | undefined>[]) {
  const settled = await Promise.allSettled(starts)
  const stop = async () => {
    const running = settled.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []))
    await Promise.all(running.map((server) => server.stop().catch(() => undefined)))
  }
  const failed = settled.find((r) => r.status === 'rejected')
  if (failed) {
    await stop()
    throw failed.reason
  }
  return stop
}

/** Removes the entries of `.tmp` made or changed since `since` (ms): this run's, not an earlier one's. */
async function sweepScratch(since: number): Promise<void> {
  const scratch = resolve('.tmp')
  const names = await readdir(scratch).catch(() => [])
  for (const name of names) {
    const path = join(scratch, name)
    const changed = await stat(path).then(
      (s) => s.ctimeMs,
      () => 0,
    )
    if (changed >= since) await rm(path, { recursive: true, force: true }).catch(() => undefined)
  }
}

export default async function setup(project: TestProject) {
  const began = Date.now()
  const external = process.env.TEST_DATABASE_URL
  const plain15 = external ? Promise.resolve(undefined) : startThrowawayPostgres()
  const plain17 = startThrowawayPostgres({ major: 17 })
  const supabase15 = startSupabaseCluster({ major: 15 })
  const supabase17 = startSupabaseCluster({ major: 17 })
  const s3 = startS3Server()
  const stopAll = await startAll([plain15, plain17, supabase15, supabase17, s3])
  const info = ({ major, adminUrl, password }: SupabaseClusterInfo) => ({ major, adminUrl, password })
  project.provide('databaseUrl', external ?? (await plain15)!.url)
  project.provide('databaseUrl17', (await plain17).url)
  project.provide('supabase15', info(await supabase15))
  project.provide('supabase17', info(await supabase17))
  project.provide('s3Endpoint', (await s3).endpoint)
  return async () => {
    await stopAll()
    await sweepScratch(began)
  }
}
