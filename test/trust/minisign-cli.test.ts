// Interoperability with the real minisign CLI, both ways: what Lifeboat signs, `minisign -V`
// verifies; a key made by `minisign -G -W` signs for Lifeboat; what minisign signs
// (prehashed or legacy), Lifeboat verifies.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkSignature, signSidecar } from '../../lib/trust/backup-signature.ts'
import {
  generateSigningKeyPair,
  parsePublicKey,
  parseSigningKey,
  verifyMinisign,
} from '../../lib/trust/signature.ts'
import { loadSigningKey, loadTrustedKeys } from '../../lib/trust/signing-config.ts'

const id = 'backup-2026-01-01T000000Z'
let dir: string
let sidecarPath: string

function minisign(args: string[]) {
  return spawnSync('minisign', args, { cwd: dir, encoding: 'utf8', input: '' })
}

beforeAll(async () => {
  expect(
    spawnSync('sh', ['-c', 'command -v minisign']).status,
    'install minisign (apt-get install minisign)',
  ).toBe(0)
  dir = await mkdtemp(join(resolve('.tmp'), 'minisign-'))
  sidecarPath = join(dir, `${id}.manifest.json`)
  await writeFile(
    sidecarPath,
    `${JSON.stringify({ id, archive: { bytes: 123, sha256: 'a'.repeat(64) } }, null, 2)}\n`,
  )
})

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('minisign CLI', () => {
  it('verifies a sidecar signature Lifeboat wrote, and prints its trusted comment', async () => {
    const pair = generateSigningKeyPair()
    await writeFile(join(dir, 'ours.pub'), pair.publicKeyFile)
    const signature = signSidecar(
      await readFile(sidecarPath),
      id,
      parseSigningKey(pair.secretKeyFile),
      new Date(),
    )
    await writeFile(`${sidecarPath}.minisig`, signature)
    const result = minisign(['-V', '-p', 'ours.pub', '-m', sidecarPath])
    expect(result.status, result.stderr).toBe(0)
    expect(result.stdout).toContain('Signature and comment signature verified')
    expect(result.stdout).toContain(`file:${id}.manifest.json`)
  })

  it('refuses the same signature once the sidecar changed', async () => {
    const pair = generateSigningKeyPair()
    await writeFile(join(dir, 'tamper.pub'), pair.publicKeyFile)
    const copy = join(dir, 'tampered.json')
    const bytes = await readFile(sidecarPath)
    await writeFile(
      `${copy}.minisig`,
      signSidecar(bytes, id, parseSigningKey(pair.secretKeyFile), new Date()),
    )
    await writeFile(copy, bytes.toString().replace('123', '124'))
    const result = minisign(['-V', '-p', 'tamper.pub', '-m', copy])
    expect(result.status).not.toBe(0)
    expect(result.stderr).toContain('Signature verification failed')
  })

  it('makes a key (-G -W) that Lifeboat signs with, and minisign verifies the result', async () => {
    const made = minisign(['-G', '-W', '-p', 'cli.pub', '-s', 'cli.key'])
    expect(made.status, made.stderr).toBe(0)
    const key = await loadSigningKey({ kind: 'file', path: join(dir, 'cli.key') })
    const [trusted] = await loadTrustedKeys({ kind: 'file', path: join(dir, 'cli.pub') })
    expect(key.keyId).toBe(trusted!.keyId)
    expect(await readFile(join(dir, 'cli.pub'), 'utf8')).toContain(`minisign public key ${key.keyId}`)
    const file = join(dir, 'cli-signed.json')
    await writeFile(file, await readFile(sidecarPath))
    await writeFile(`${file}.minisig`, signSidecar(await readFile(file), 'cli-signed', key, new Date()))
    const result = minisign(['-V', '-P', trusted!.line, '-m', file])
    expect(result.status, result.stderr).toBe(0)
  })

  it('signs (prehashed, the default) with a CLI key, and Lifeboat verifies it against that key', async () => {
    minisign(['-G', '-W', '-p', 'v.pub', '-s', 'v.key'])
    const file = join(dir, 'by-cli.json')
    await writeFile(file, await readFile(sidecarPath))
    const signed = minisign(['-S', '-s', 'v.key', '-m', file])
    expect(signed.status, signed.stderr).toBe(0)
    const trusted = await loadTrustedKeys({ kind: 'file', path: join(dir, 'v.pub') })
    const result = verifyMinisign(
      await readFile(file),
      await readFile(`${file}.minisig`, 'utf8'),
      trusted,
      'by-cli.json',
    )
    expect(result.prehashed).toBe(true)
    expect(result.trustedComment).toContain('file:by-cli.json')
    // The gate accepts what the tool signs by hand: minisign names the file it signed.
    expect(
      checkSignature({
        what: 'by-cli.json',
        file: 'by-cli.json',
        bytes: await readFile(file),
        signature: await readFile(`${file}.minisig`, 'utf8'),
        trusted,
        allowUnsigned: false,
      }).status,
    ).toBe('verified')
  })

  it('verifies a legacy (-l, not prehashed) signature, and refuses it once the file changed', async () => {
    minisign(['-G', '-W', '-p', 'l.pub', '-s', 'l.key'])
    const file = join(dir, 'legacy.json')
    await writeFile(file, 'legacy bytes\n')
    expect(minisign(['-S', '-l', '-s', 'l.key', '-m', file]).status).toBe(0)
    const trusted = [parsePublicKey(await readFile(join(dir, 'l.pub'), 'utf8'))]
    const signature = await readFile(`${file}.minisig`, 'utf8')
    expect(verifyMinisign(Buffer.from('legacy bytes\n'), signature, trusted, 'legacy').prehashed).toBe(false)
    expect(() => verifyMinisign(Buffer.from('legacy bytes!\n'), signature, trusted, 'legacy')).toThrow(
      /changed/,
    )
  })

  it('signs with a key Lifeboat generated', async () => {
    const pair = generateSigningKeyPair()
    await writeFile(join(dir, 'gen.key'), pair.secretKeyFile)
    await writeFile(join(dir, 'gen.pub'), pair.publicKeyFile)
    const file = join(dir, 'gen.txt')
    await writeFile(file, 'x\n')
    execFileSync('minisign', ['-S', '-s', 'gen.key', '-m', file], { cwd: dir, input: '' })
    expect(minisign(['-V', '-p', 'gen.pub', '-m', file]).status).toBe(0)
  })
})
