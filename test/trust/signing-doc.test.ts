// Runs the tested blocks of docs/signing.md, as a person would, on a backup made by the
// real backup job and signed with lib/trust (as the job will sign it): the by-hand check
// passes, and fails once the sidecar or the archive was changed.
import { execFile } from 'node:child_process'
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { delimiter, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSampleData } from '../../lib/demo/sample-data.ts'
import { signSidecar } from '../../lib/trust/backup-signature.ts'
import { generateSigningKeyPair, parseSigningKey } from '../../lib/trust/signature.ts'
import { createDatabase, dropDatabase, withClient } from '../helpers/database.ts'
import { readMarkdownFile, sessionScript } from '../helpers/doc-blocks.ts'
import { runJobProcess } from '../helpers/run-job.ts'

const blocks = readMarkdownFile('docs/signing.md').blocks.filter((b) => b.mode === 'tested')
let work: string
let store: string
let source: { name: string; url: string }
let env: Record<string, string>

function bash(script: string): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile('bash', [script], { cwd: resolve('.'), env, timeout: 120_000 }, (error, stdout, stderr) =>
      done({
        code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
        output: `${stdout}\n${stderr}`,
      }),
    )
  })
}

/** The blocks of "Checking a backup by hand" alone, for a second look at a changed backup. */
const checkBlocks = blocks.slice(blocks.findIndex((b) => b.text.includes('$WORK/check')))

async function runBlocks(label: string, which = blocks): Promise<{ code: number; output: string }> {
  const script = join(work, `${label}.sh`)
  await writeFile(script, sessionScript(which, join(work, `${label}.progress`)))
  return bash(script)
}

beforeAll(async () => {
  await mkdir(resolve('.tmp'), { recursive: true })
  work = await mkdtemp(join(resolve('.tmp'), 'signing-doc-'))
  store = join(work, 'store')
  source = await createDatabase('signing_doc')
  await withClient(source.url, (client) => createSampleData(client, { metricsRows: 200 }))
  const backup = await runJobProcess('backup', ['--json', '--quiet'], {
    DATABASE_URL: source.url,
    BACKUP_STORE: `file://${store}`,
    LIFEBOAT_STATE_FILE: join(work, 'state.json'),
  })
  expect(backup.code, backup.stderr).toBe(0)
  const id = String(backup.json?.id)
  const pair = generateSigningKeyPair()
  const sidecar = join(store, 'database-backups', `${id}.manifest.json`)
  await writeFile(
    `${sidecar}.minisig`,
    signSidecar(await readFile(sidecar), id, parseSigningKey(pair.secretKeyFile), new Date()),
  )
  env = {
    PATH: [resolve('node_modules/.bin'), process.env.PATH ?? ''].join(delimiter),
    HOME: process.env.HOME ?? work,
    WORK: work,
    BACKUP_STORE: `file://${store}`,
    SIGNING_PUBLIC_KEY: pair.publicKeyFile.split('\n')[1]!,
  }
}, 120_000)

afterAll(async () => {
  if (source) await dropDatabase(source.name).catch(() => undefined)
  if (work) await rm(work, { recursive: true, force: true })
})

describe('docs/signing.md', () => {
  it('has tested blocks for key generation and the by-hand check', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5)
    expect(blocks.map((b) => b.text).join('\n')).toContain('minisign -V')
    expect(checkBlocks.length).toBe(3)
  })

  it('runs every tested block with exit 0 on a signed backup', async () => {
    const result = await runBlocks('session')
    expect(result.code, result.output.slice(-3000)).toBe(0)
    expect(result.output).toContain('Signature and comment signature verified')
    expect(result.output).toContain('size OK')
    expect(result.output).toMatch(/\.tar\.gz: OK/)
    // The secret key was deleted as the page says; the public key stays.
    expect(await readdir(join(work, 'keys'))).toEqual(['lifeboat-signing.pub'])
  })

  it('fails at the signature step once the sidecar was changed', async () => {
    const folder = join(store, 'database-backups')
    const sidecar = (await readdir(folder)).find((f) => f.endsWith('.manifest.json'))!
    const original = await readFile(join(folder, sidecar))
    try {
      await appendFile(join(folder, sidecar), ' ')
      const result = await runBlocks('tampered-sidecar', checkBlocks)
      expect(result.code).not.toBe(0)
      expect(result.output).toContain('Signature verification failed')
    } finally {
      await writeFile(join(folder, sidecar), original)
    }
  })

  it('fails at the archive step once the archive was changed', async () => {
    const folder = join(store, 'database-backups')
    const archive = (await readdir(folder)).find((f) => f.endsWith('.tar.gz'))!
    const original = await readFile(join(folder, archive))
    try {
      const changed = Buffer.from(original)
      changed[changed.length - 20]! ^= 1
      await writeFile(join(folder, archive), changed)
      const result = await runBlocks('tampered-archive', checkBlocks)
      expect(result.code).not.toBe(0)
      expect(result.output).toContain('Signature and comment signature verified')
      expect(result.output).toMatch(/FAILED/)
    } finally {
      await writeFile(join(folder, archive), original)
    }
  })
})
