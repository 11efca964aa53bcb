// What an attacker who can write to the backup bucket, but holds no key, can do: take a
// stored backup, change its schema.sql, recompute every hash (SHA256SUMS, the manifest,
// the sidecar's archive sha256), encrypt it to the public recipient, and put it back.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Manifest } from '../../lib/archive/manifest.ts'

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex')

export interface Forgery {
  /** Appended to schema.sql. */
  appendSchema: string
  /** age public key: the forged archive is encrypted to it (the backup runner's key is public). */
  encryptTo?: string
  /** Leave the old signature beside the new sidecar (it then signs other bytes). */
  keepSignature?: boolean
}

/** Rewrites backup `id` in the folder store at `root` as the forgery says; returns the new archive path. */
export function forgeStoredBackup(root: string, id: string, forgery: Forgery): string {
  const dir = join(root, 'database-backups')
  const work = mkdtempSync(join(resolve('.tmp'), 'forge-'))
  execFileSync('tar', ['-xzf', join(dir, `${id}.tar.gz`), '-C', work])
  const folder = join(work, id)
  const schema = `${readFileSync(join(folder, 'schema.sql'), 'utf8')}\n${forgery.appendSchema}\n`
  writeFileSync(join(folder, 'schema.sql'), schema)
  const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as Manifest
  manifest.schemaSql = { ...manifest.schemaSql!, sha256: sha256(schema), bytes: Buffer.byteLength(schema) }
  manifest.encrypted = Boolean(forgery.encryptTo)
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`
  writeFileSync(join(folder, 'manifest.json'), manifestText)
  rmSync(join(folder, 'manifest.json.minisig'), { force: true })
  const sums = [
    `${manifest.schemaSql.sha256}  schema.sql`,
    ...manifest.tables.map((t) => `${t.sha256}  ${t.file}`),
    `${sha256(manifestText)}  manifest.json`,
  ]
  writeFileSync(join(folder, 'SHA256SUMS'), `${sums.join('\n')}\n`)
  const tarball = join(work, `${id}.tar.gz`)
  execFileSync('tar', ['-czf', tarball, '-C', work, id])
  let archive = tarball
  if (forgery.encryptTo) {
    archive = `${tarball}.age`
    execFileSync('age', ['-r', forgery.encryptTo, '-o', archive, tarball])
  }
  rmSync(join(dir, `${id}.tar.gz`), { force: true })
  const name = `${id}.tar.gz${forgery.encryptTo ? '.age' : ''}`
  const stored = join(dir, name)
  writeFileSync(stored, readFileSync(archive))
  const sidecar = {
    ...manifest,
    encrypted: Boolean(forgery.encryptTo),
    archive: {
      key: `database-backups/${name}`,
      bytes: statSync(stored).size,
      sha256: sha256(readFileSync(stored)),
    },
  }
  writeFileSync(join(dir, `${id}.manifest.json`), `${JSON.stringify(sidecar, null, 2)}\n`)
  if (!forgery.keepSignature) rmSync(join(dir, `${id}.manifest.json.minisig`), { force: true })
  rmSync(work, { recursive: true, force: true })
  return stored
}
