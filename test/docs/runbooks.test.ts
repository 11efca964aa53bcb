// Runs every runbook as a person would: `npx zx runbooks/<name>.md --yes`, which runs its
// `tested` blocks in one bash session, against the test's PostgreSQL and S3 API, then
// proves the outcome (restored rows equal the source). Conventions:
// docs/runbook-conventions.md. The README's demo command runs here too.
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createSampleData } from '../../lib/demo/sample-data.ts'
import { createDatabase, dropDatabase, sql, withClient } from '../helpers/database.ts'
import { type DocBlock, markdownFiles, readMarkdownFile, sessionScript } from '../helpers/doc-blocks.ts'
import { type HttpReceiver, startSlackReceiver } from '../helpers/receivers.ts'
import { runJobProcess } from '../helpers/run-job.ts'
import {
  baseEnv,
  EDGE_CASES_SQL,
  fingerprint,
  run,
  sequences,
  tail,
  waitForNextSecond,
} from '../helpers/runbook-session.ts'
import { s3Env } from '../helpers/s3-server.ts'
import { signingEnv, TEST_KEYS } from '../helpers/signing.ts'
import {
  factsOf,
  type StorageProject,
  seed,
  startStorageProject,
  storageEnv,
} from '../helpers/storage-world.ts'

const SESSION_TIMEOUT_MS = 8 * 60_000

/** What one runbook's session gets, and what the test checks after it. */
interface Session {
  env: Record<string, string>
  source: { name: string; url: string }
  target: { name: string; url: string }
  staging: { name: string; url: string }
  work: string
  /** Environment for the backup job (store and AWS settings). */
  storeEnv: Record<string, string>
  facts: Record<string, unknown>
}

interface RunbookHooks {
  /** Use the S3 API server as the store instead of a folder. */
  s3?: boolean
  /** Before the first backup: add tables with hard types to the source. */
  edgeCases?: boolean
  /** Encrypt the seeded backup to a fresh age key, handed over as AGE_KEY_FILE. */
  encrypted?: boolean
  /** Hand over an age key file (AGE_KEY_FILE) without encrypting. */
  ageKey?: boolean
  /** After the seeded backup, before the session. */
  prepare?(session: Session): Promise<void>
  /** After the session exited 0. */
  check?(session: Session): Promise<void>
}

const hooks: Record<string, RunbookHooks> = {
  'restore-latest.md': {
    s3: true,
    async check(s) {
      const source = await fingerprint(s.source.url)
      expect(await fingerprint(s.target.url)).toEqual(source)
      expect(source).toEqual(s.facts.sourceBefore)
      // Step 10 shows both restores in the audit trail, and the run of the runbook is there too.
      const audit = await runJobProcess('audit', ['--event', 'restore', '--json'], s.storeEnv)
      expect(audit.json?.records).toHaveLength(2)
      const runs = await runJobProcess('audit', ['--event', 'runbook', '--json'], s.storeEnv)
      expect(runs.json?.records).toMatchObject([
        { event: 'runbook', outcome: 'success', details: { runbook: 'runbooks/restore-latest.md' } },
      ])
    },
  },
  'point-in-time-restore.md': {
    async prepare(s) {
      s.facts.beforeDamage = await fingerprint(s.source.url)
      await waitForNextSecond()
      s.env.INCIDENT_AT = `${new Date().toISOString().slice(0, 19)}Z`
      await sql(s.source.url, 'DELETE FROM public.messages WHERE id > 2900')
      s.facts.afterDamage = await fingerprint(s.source.url)
      await waitForNextSecond()
      const later = await backup(s)
      s.env.RESTORE_DAY = later.slice('backup-'.length, 'backup-'.length + 10)
    },
    async check(s) {
      // The restored copy and the repaired production hold the state from before the damage;
      // the copy restored by day holds the newest backup of that day, damage included.
      expect(await fingerprint(s.target.url)).toEqual(s.facts.beforeDamage)
      expect(await fingerprint(s.source.url)).toEqual(s.facts.beforeDamage)
      expect(await fingerprint(s.staging.url)).toEqual(s.facts.afterDamage)
      expect(s.facts.afterDamage).not.toEqual(s.facts.beforeDamage)
    },
  },
  'manual-restore.md': {
    edgeCases: true,
    encrypted: true,
    async check(s) {
      const archives = await readdir(join(s.work, 'store', 'database-backups'))
      expect(archives.some((name) => name.endsWith('.tar.gz.age'))).toBe(true)
      const source = await fingerprint(s.source.url)
      expect(Object.keys(source)).toContain('public.Odd "name".x')
      expect(await fingerprint(s.target.url)).toEqual(source)
      expect(await sequences(s.target.url)).toEqual(await sequences(s.source.url))
    },
  },
  'key-rotation.md': {
    encrypted: true,
    async check(s) {
      const listed = await runJobProcess('list', ['--json'], s.storeEnv)
      expect(listed.json?.backups).toHaveLength(2)
      // The newest archive is for the new key only: the old identity alone cannot read it.
      const old = await runJobProcess('verify', ['latest', '--identity', s.env.AGE_KEY_FILE!], s.storeEnv)
      expect(old.code).toBe(1)
      expect(old.stderr).toContain('DECRYPT_FAILED')
    },
  },
  'troubleshooting.md': { ageKey: true },
  'storage.md': {
    // A backup with the files of a Storage project; the session restores them into another.
    async prepare(s) {
      const source = await storageProject('source')
      const target = await storageProject('target')
      await seed(source.raw, [
        { bucket: 'avatars', name: 'users/1/avatar.png', body: Buffer.from('png'), contentType: 'image/png' },
        {
          bucket: 'documents',
          name: 'reports/été.pdf',
          body: Buffer.from('%PDF'),
          contentType: 'application/pdf',
        },
      ])
      const result = await runJobProcess('backup', ['--json', '--quiet'], {
        ...s.storeEnv,
        DATABASE_URL: s.source.url,
        LIFEBOAT_STATE_FILE: s.env.LIFEBOAT_STATE_FILE,
        ...storageEnv(source),
      })
      expect(result.code, result.stderr).toBe(0)
      Object.assign(s.env, storageEnv(target, 'TARGET_'))
      // What --confirm-storage names (a project ref on Supabase; host:port for the stand-in).
      s.env.STORAGE_PROJECT_REF = new URL(target.endpoint.url).host
      s.facts.storage = { source, target }
    },
    async check(s) {
      const { source, target } = s.facts.storage as { source: StorageProject; target: StorageProject }
      const restored = await factsOf(target.raw)
      expect(restored.size).toBe(2)
      expect(restored).toEqual(await factsOf(source.raw))
    },
  },
  'monthly-drill.md': {
    async check(s) {
      expect((await readdir(join(s.work, 'store', 'drills'))).some((f) => /^drill-.*\.json$/.test(f))).toBe(
        true,
      )
    },
  },
  'quarterly-dr-test.md': {
    async prepare(s) {
      // Replication copied the backups into the second copy (step 4b restores from it).
      await cp(join(s.work, 'store', 'database-backups'), join(s.work, 'replica', 'database-backups'), {
        recursive: true,
      })
      s.env.BACKUP_REPLICA_STORE = `file://${join(s.work, 'replica')}`
      s.facts.replicaBefore = (await readdir(join(s.work, 'replica'), { recursive: true })).sort()
    },
    async check(s) {
      const reports = (await readdir(join(s.work, 'store', 'drills'))).filter((f) =>
        /^dr-test-.*\.json$/.test(f),
      )
      // Step 4 from the primary, step 4b from the replica: both reports in the primary.
      expect(reports).toHaveLength(2)
      const stored = await Promise.all(
        reports.map(async (f) => JSON.parse(await readFile(join(s.work, 'store', 'drills', f), 'utf8'))),
      )
      for (const report of stored) expect(JSON.stringify(report)).toContain('organization has its settings')
      expect(stored.map((r) => r.stores.backups).sort()).toEqual(
        [join(s.work, 'replica'), join(s.work, 'store')].sort(),
      )
      expect((await readdir(join(s.work, 'replica'), { recursive: true })).sort()).toEqual(
        s.facts.replicaBefore,
      )
    },
  },
}

const runbooks = markdownFiles('runbooks')
  .map((path) => ({ name: basename(path), path }))
  .map((r) => ({ ...r, blocks: readMarkdownFile(r.path).blocks.filter((b) => b.mode === 'tested') }))
  .filter((r) => r.blocks.length > 0)

let parent: string
let slack: HttpReceiver
const storageProjects: StorageProject[] = []

async function storageProject(role: 'source' | 'target'): Promise<StorageProject> {
  const project = await startStorageProject(role)
  storageProjects.push(project)
  return project
}
const databases: string[] = []
/** Work folders (each session's session.sh and session.log) stay when something failed, or with KEEP_RUNBOOK_SESSIONS=1. */
let keepWork = process.env.KEEP_RUNBOOK_SESSIONS === '1'

async function keepingWorkOnFailure(work: () => Promise<void>): Promise<void> {
  let ok = false
  try {
    await work()
    ok = true
  } finally {
    if (!ok) keepWork = true
  }
}

beforeAll(async () => {
  const missing = ['bash', 'psql', 'tar', 'sha256sum', 'jq', 'age', 'age-keygen'].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0,
  )
  expect(missing, 'the runbooks use these tools; install them (apt-get install -y age jq)').toEqual([])
  await mkdir(resolve('.tmp'), { recursive: true })
  parent = await mkdtemp(join(resolve('.tmp'), 'runbooks-'))
  slack = await startSlackReceiver()
})

afterAll(async () => {
  await slack?.close()
  await Promise.all(storageProjects.map((p) => p.server.stop()))
  for (const name of databases) await dropDatabase(name).catch(() => undefined)
  if (parent && !keepWork) await rm(parent, { recursive: true, force: true })
  else if (parent) console.warn(`runbook sessions kept in ${parent}`)
})

for (const { name, path, blocks } of runbooks)
  describe(path, () => {
    it(
      `runs its ${blocks.length} tested blocks with exit 0`,
      () =>
        keepingWorkOnFailure(async () => {
          const hook = hooks[name] ?? {}
          const session = await prepareSession(name, hook)
          const result = await runSession(path, blocks, session)
          if (result.failedBlock) {
            const b = result.failedBlock
            expect.fail(
              `${b.file}:${b.line} failed (exit ${result.code}):\n${b.text}\n--- output (last 60 lines) ---\n${tail(result.output, 60)}`,
            )
          }
          expect(result.code).toBe(0)
          await hook.check?.(session)
        }),
      SESSION_TIMEOUT_MS,
    )
  })

describe('runbooks/restore-latest.md run by zx without --yes', () => {
  it(
    'asks before the first step that changes something; "n" stops there, the target untouched',
    () =>
      keepingWorkOnFailure(async () => {
        const session = await prepareSession('restore-latest.md', hooks['restore-latest.md']!)
        const result = await run(
          'npx',
          ['zx', 'runbooks/restore-latest.md'],
          session.env,
          SESSION_TIMEOUT_MS - 30_000,
          'n\n',
        )
        expect(result.code, tail(result.output, 40)).toBe(1)
        // Steps 2 to 4 only read: they ran without a question; step 5 restores: it asked.
        expect([...result.output.matchAll(/^✔ (\d+)\. .+: done in /gm)].map((m) => m[1])).toEqual([
          '2',
          '3',
          '4',
        ])
        expect(result.output.match(/This step changes something\. Run it\? \[y\/N\]/g)).toHaveLength(1)
        expect(result.output).toContain(
          'runbook restore-latest.md: stopped at "5. Restore into the empty database" (declined)',
        )
        expect(await fingerprint(session.target.url)).toEqual({})
        const runs = await runJobProcess('audit', ['--event', 'runbook', '--json'], session.storeEnv)
        expect(runs.json?.records).toMatchObject([{ outcome: 'warning' }])
      }),
    SESSION_TIMEOUT_MS,
  )
})

describe('README.md', () => {
  it('runs its tested blocks (npx lifeboat …) in one bash session in the repository', async () => {
    const blocks = readMarkdownFile('README.md').blocks.filter((b) => b.mode === 'tested')
    expect(blocks.length).toBeGreaterThan(0)
    const work = await mkdtemp(join(parent, 'readme-'))
    const script = join(work, 'readme.sh')
    await writeFile(script, sessionScript(blocks, join(work, 'progress')))
    const result = await run('bash', [script], { ...baseEnv(), WORK: work }, SESSION_TIMEOUT_MS)
    expect(result.code, tail(result.output, 40)).toBe(0)
    expect(result.output).toContain('Usage: lifeboat backup [options]')
    expect(result.output).toMatch(/lifeboat \d+\.\d+\.\d+ \(node v/)
  })

  it(
    'runs the demo the README shows (npm run demo, with a temp store and small data)',
    async () => {
      const work = await mkdtemp(join(parent, 'demo-'))
      const result = await run(
        'bash',
        ['-c', 'npm run demo -- --store "$WORK/demo" --metrics-rows 2000'],
        { ...baseEnv(), WORK: work },
        SESSION_TIMEOUT_MS,
      )
      expect(result.code, tail(result.output, 40)).toBe(0)
      expect(result.output).toMatch(/every table identical/)
    },
    SESSION_TIMEOUT_MS,
  )
})

async function prepareSession(name: string, hook: RunbookHooks): Promise<Session> {
  const label = name.replace(/\.md$/, '').replace(/[^a-z0-9]+/g, '_')
  const work = await mkdtemp(join(parent, `${label}-`))
  const source = await createDatabase(`rb_${label}_src`.slice(0, 40))
  const target = await createDatabase(`rb_${label}_tgt`.slice(0, 40))
  const staging = await createDatabase(`rb_${label}_stg`.slice(0, 40))
  databases.push(source.name, target.name, staging.name)
  await withClient(source.url, async (client) => {
    await createSampleData(client, { metricsRows: 2000 })
    if (hook.edgeCases) await client.query(EDGE_CASES_SQL)
  })

  const storeEnv: Record<string, string> = {
    ...(hook.s3
      ? s3Env(inject('s3Endpoint'), `runbooks-${label}-${randomBytes(4).toString('hex')}`)
      : { BACKUP_STORE: `file://${join(work, 'store')}` }),
    // As a deployment has them: the backup job's secret key, everyone's public key.
    ...signingEnv(),
  }
  const signingPublicKey = TEST_KEYS.public.split('\n').find((line) => line.startsWith('RW'))!
  const env: Record<string, string> = {
    ...baseEnv(),
    ...storeEnv,
    DATABASE_URL: source.url,
    DATABASE_NAME: source.name,
    TARGET_DATABASE_URL: target.url,
    STAGING_DATABASE_URL: staging.url,
    WORK: work,
    SIGNING_PUBLIC_KEY: signingPublicKey,
    LIFEBOAT_STATE_FILE: join(work, 'state', 'status.json'),
    SLACK_WEBHOOK_URL: slack.url,
    ALERT_ENVIRONMENT: 'runbook-test',
    ALERT_ATTEMPTS: '1',
  }
  const session: Session = {
    env,
    source,
    target,
    staging,
    work,
    storeEnv: { ...baseEnv(), ...storeEnv },
    facts: {},
  }

  if (hook.encrypted || hook.ageKey) {
    const keyFile = join(work, 'lifeboat-current.key')
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' })
    env.AGE_KEY_FILE = keyFile
    session.storeEnv.BACKUP_AGE_IDENTITY = keyFile
    if (hook.encrypted) {
      session.facts.recipient = execFileSync('age-keygen', ['-y', keyFile]).toString().trim()
    }
  }
  session.facts.sourceBefore = await fingerprint(source.url)
  await backup(session)
  await hook.prepare?.(session)
  return session
}

/** Runs the backup job on the session's source; returns the backup id. */
async function backup(s: Session): Promise<string> {
  const recipients = s.facts.recipient ? { BACKUP_AGE_RECIPIENTS: String(s.facts.recipient) } : {}
  const result = await runJobProcess('backup', ['--json', '--quiet'], {
    ...s.storeEnv,
    ...recipients,
    DATABASE_URL: s.source.url,
    LIFEBOAT_STATE_FILE: s.env.LIFEBOAT_STATE_FILE,
  })
  expect(result.code, result.stderr).toBe(0)
  return String(result.json?.id)
}

interface SessionResult {
  code: number
  output: string
  failedBlock?: DocBlock
}

async function runSession(path: string, blocks: DocBlock[], session: Session): Promise<SessionResult> {
  const result = await run('npx', ['zx', path, '--yes'], session.env, SESSION_TIMEOUT_MS - 30_000)
  await writeFile(join(session.work, 'session.log'), result.output)
  const steps = new Set(blocks.map((b) => b.step))
  const done = [...result.output.matchAll(/^✔ .+: done in /gm)].length
  if (result.code === 0 && done === steps.size) return result
  // The runner prints each block's place before it runs it: the last one printed failed.
  const places = [...result.output.matchAll(/^(runbooks\/[\w.-]+\.md):(\d+)$/gm)]
  const line = Number(places.at(-1)?.[2])
  const failedBlock = blocks.find((b) => b.line === line) ?? { ...blocks[0]!, line: 0, file: path }
  return { ...result, failedBlock, code: result.code === 0 ? 1 : result.code }
}
