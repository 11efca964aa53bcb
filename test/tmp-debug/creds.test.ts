import { mkdtempSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { expect, inject, it } from 'vitest'
import { createDatabase, sql } from '../helpers/database.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import { s3Env } from '../helpers/s3-server.ts'

it('debug', async () => {
  const source = await createDatabase('dbg_creds')
  await sql(source.url, `CREATE TABLE items AS SELECT g AS id FROM generate_series(1, 20) g`)
  const env = { DATABASE_URL: source.url, ...s3Env(inject('s3Endpoint'), 'forbidden') }
  const run = await runJobProcess('backup', [], {
    ...env,
    AWS_ACCESS_KEY_ID: 'NOT-A-KEY',
    AWS_SECRET_ACCESS_KEY: 'secret-key-that-must-not-print',
  })
  console.log(run.code, run.stdout.slice(-2000), run.stderr.slice(-3000))
  expect(1).toBe(1)
}, 120000)
