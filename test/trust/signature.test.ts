// minisign-format signatures: keys parsed and refused, signatures verified against a list
// of trusted keys (rotation), every tampering refused with its own code, and the gate
// that --allow-unsigned opens only for what cannot be checked.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SettingsReader } from '../../lib/core/config.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import {
  checkSignature,
  INNER_SIGNATURE_FILE,
  sidecarSignatureKey,
  signedFileName,
  signInnerManifest,
  signSidecar,
} from '../../lib/trust/backup-signature.ts'
import {
  formatKeyId,
  generateSigningKeyPair,
  parsePublicKey,
  parsePublicKeyList,
  parseSigningKey,
  signMinisign,
  verifyMinisign,
} from '../../lib/trust/signature.ts'
import {
  loadSigningKey,
  loadTrustedKeys,
  readSigningKeySource,
  readTrustedKeysSource,
} from '../../lib/trust/signing-config.ts'

function thrown(work: () => unknown): LifeboatError {
  try {
    work()
  } catch (error) {
    return error as LifeboatError
  }
  throw new Error('expected an error')
}

const current = generateSigningKeyPair()
const next = generateSigningKeyPair()
const stranger = generateSigningKeyPair()
const currentKey = parseSigningKey(current.secretKeyFile)
const nextKey = parseSigningKey(next.secretKeyFile)
const strangerKey = parseSigningKey(stranger.secretKeyFile)
const trusted = [parsePublicKey(current.publicKeyFile), parsePublicKey(next.publicKeyFile)]
const sidecar = Buffer.from('{"id":"backup-2026-01-01T000000Z","archive":{"bytes":1}}\n')

/** The base64 line of a key or signature file, decoded, changed by `edit`, encoded back. */
function editLine(text: string, line: number, edit: (bytes: Buffer) => void): string {
  const lines = text.split('\n')
  const bytes = Buffer.from(lines[line]!, 'base64')
  edit(bytes)
  lines[line] = bytes.toString('base64')
  return lines.join('\n')
}

describe('keys', () => {
  it('reads a public key from its .pub file or from the bare RW… line', () => {
    const fromFile = parsePublicKey(current.publicKeyFile)
    const fromLine = parsePublicKey(current.publicKeyFile.split('\n')[1]!)
    expect(fromFile.keyId).toBe(current.keyId)
    expect(fromLine.line).toBe(fromFile.line)
    expect(fromFile.line).toMatch(/^RW[A-Za-z0-9+/]{54}$/)
  })

  it('refuses text that is not a minisign public key', () => {
    for (const text of [
      '',
      'RWQ',
      'ssh-ed25519 AAAA',
      current.secretKeyFile,
      `${current.publicKeyFile}${next.publicKeyFile}`,
    ]) {
      expect(thrown(() => parsePublicKey(text)).code).toBe('CONFIG_INVALID')
    }
  })

  it('reads several public keys separated by commas, spaces or newlines, or as .pub files put together', () => {
    const lines = [current, next].map((k) => k.publicKeyFile.split('\n')[1]!)
    expect(parsePublicKeyList(lines.join(',')).keys.map((k) => k.keyId)).toEqual([current.keyId, next.keyId])
    expect(parsePublicKeyList(lines.join(' \n ')).keys).toHaveLength(2)
    expect(parsePublicKeyList(current.publicKeyFile + next.publicKeyFile).keys).toHaveLength(2)
    expect(parsePublicKeyList(`${lines[0]},${lines[0]}`).keys).toHaveLength(1)
  })

  it('names the position of a bad entry, never its text', () => {
    const { problems } = parsePublicKeyList(`${current.publicKeyFile.split('\n')[1]}, RWnotakey`)
    expect(problems).toEqual(['entry 2 is not a minisign public key (RW…, 56 characters)'])
    expect(parsePublicKeyList('').problems).toEqual(['holds no minisign public key (RW…)'])
  })

  it('prints key ids as minisign does: the id as a little-endian number in hex, unpadded', () => {
    expect(formatKeyId(Buffer.from('61d6bc55fa2106b4', 'hex'))).toBe('B40621FA55BCD661')
    expect(formatKeyId(Buffer.from('0102030405060700', 'hex'))).toBe('7060504030201')
  })

  it('reads a password-less secret key and derives its public key', () => {
    expect(currentKey.keyId).toBe(current.keyId)
    expect(currentKey.publicKey.line).toBe(parsePublicKey(current.publicKeyFile).line)
  })

  it('accepts the zero checksum minisign 0.11 writes for a password-less key', () => {
    const zeroed = editLine(current.secretKeyFile, 1, (b) => b.fill(0, 126))
    expect(parseSigningKey(zeroed).keyId).toBe(current.keyId)
  })

  it('refuses a password-protected key, naming how to remove the password', () => {
    const encrypted = editLine(current.secretKeyFile, 1, (b) => b.write('Sc', 2))
    const error = thrown(() => parseSigningKey(encrypted))
    expect(error.code).toBe('CONFIG_INVALID')
    expect(error.message).toContain('minisign -C -W')
  })

  it('refuses a damaged key: wrong checksum, or a public half that does not match', () => {
    expect(
      thrown(() => parseSigningKey(editLine(current.secretKeyFile, 1, (b) => (b[70]! ^= 1)))).message,
    ).toContain('checksum')
    const swapped = editLine(current.secretKeyFile, 1, (b) => {
      b.fill(0, 126)
      b[100]! ^= 1
    })
    expect(thrown(() => parseSigningKey(swapped)).message).toContain('public half')
  })

  it('refuses a public key given as the signing key', () => {
    expect(thrown(() => parseSigningKey(current.publicKeyFile)).code).toBe('CONFIG_INVALID')
  })
})

describe('signatures', () => {
  const signature = signMinisign(sidecar, currentKey, { trusted: 'timestamp:1\tfile:x.json\thashed' })

  it('verifies, naming the key and the trusted comment', () => {
    expect(verifyMinisign(sidecar, signature, trusted, 'x.json')).toEqual({
      keyId: current.keyId,
      trustedComment: 'timestamp:1\tfile:x.json\thashed',
      prehashed: true,
    })
  })

  it('verifies signatures of either key while both are trusted (rotation)', () => {
    const byNext = signMinisign(sidecar, nextKey, { trusted: 'file:x.json' })
    expect(verifyMinisign(sidecar, byNext, trusted, 'x.json').keyId).toBe(next.keyId)
  })

  it('refuses a signature by a key that is not trusted, naming its key id: SIGNATURE_UNTRUSTED', () => {
    const forged = signMinisign(sidecar, strangerKey, { trusted: 'file:x.json' })
    const error = thrown(() => verifyMinisign(sidecar, forged, trusted, 'x.json'))
    expect(error.code).toBe('SIGNATURE_UNTRUSTED')
    expect(error.message).toContain(stranger.keyId)
    expect(error.message).toContain(current.keyId)
  })

  it('refuses bytes changed after signing: SIGNATURE_INVALID', () => {
    const changed = Buffer.from(sidecar)
    changed[5]! ^= 1
    expect(thrown(() => verifyMinisign(changed, signature, trusted, 'x.json')).code).toBe('SIGNATURE_INVALID')
  })

  it('refuses a trusted comment changed after signing: SIGNATURE_INVALID', () => {
    const edited = signature.replace('file:x.json', 'file:y.json')
    const error = thrown(() => verifyMinisign(sidecar, edited, trusted, 'x.json'))
    expect(error.code).toBe('SIGNATURE_INVALID')
    expect(error.message).toContain('trusted comment')
  })

  it('refuses a signature whose key id was swapped for a trusted one: SIGNATURE_INVALID', () => {
    const forged = signMinisign(sidecar, strangerKey, { trusted: 'file:x.json' })
    const relabelled = editLine(forged, 1, (b) => currentKey.id.copy(b, 2))
    expect(thrown(() => verifyMinisign(sidecar, relabelled, trusted, 'x.json')).code).toBe(
      'SIGNATURE_INVALID',
    )
  })

  it('refuses malformed signature files: SIGNATURE_INVALID', () => {
    for (const text of [
      'garbage',
      signature.split('\n').slice(0, 3).join('\n'),
      `${signature}extra line\n`,
      signature.replace(/^untrusted/, 'x'),
    ]) {
      expect(thrown(() => verifyMinisign(sidecar, text, trusted, 'x.json')).code).toBe('SIGNATURE_INVALID')
    }
  })

  it('reports a missing signature as SIGNATURE_MISSING', () => {
    expect(thrown(() => verifyMinisign(sidecar, undefined, trusted, 'x.json')).code).toBe('SIGNATURE_MISSING')
    expect(thrown(() => verifyMinisign(sidecar, ' \n', trusted, 'x.json')).code).toBe('SIGNATURE_MISSING')
  })

  it('refuses a trusted comment of several lines', () => {
    expect(() => signMinisign(sidecar, currentKey, { trusted: 'a\nb' })).toThrow(/one line/)
  })
})

describe('the backup signature gate', () => {
  const id = 'backup-2026-01-01T000000Z'
  const at = new Date('2026-01-01T02:00:00Z')
  const signed = signSidecar(sidecar, id, currentKey, at)
  const input = {
    what: `${id} (its sidecar)`,
    file: `${id}.manifest.json`,
    bytes: sidecar,
    signature: signed,
    trusted,
    allowUnsigned: false,
  }

  it('lives beside the sidecar and inside the tar after manifest.json', () => {
    expect(sidecarSignatureKey(id)).toBe(`database-backups/${id}.manifest.json.minisig`)
    expect(INNER_SIGNATURE_FILE).toBe('manifest.json.minisig')
  })

  it('names the signed file and time in minisign’s trusted comment', () => {
    const result = checkSignature(input)
    expect(result).toMatchObject({ status: 'verified', keyId: current.keyId })
    expect(result.status === 'verified' && result.trustedComment).toBe(
      `timestamp:1767232800\tfile:${id}.manifest.json\thashed`,
    )
  })

  it('refuses a signature made for another file (a sidecar signature copied onto another backup)', () => {
    const other = signSidecar(sidecar, 'backup-2025-12-31T000000Z', currentKey, at)
    const error = thrown(() => checkSignature({ ...input, signature: other }))
    expect(error.code).toBe('SIGNATURE_INVALID')
    expect(error.message).toContain('backup-2025-12-31T000000Z.manifest.json')
    const inner = signInnerManifest(sidecar, currentKey, at)
    expect(signedFileName(verifyMinisign(sidecar, inner, trusted, 'm').trustedComment)).toBe('manifest.json')
  })

  it('refuses an unsigned backup unless --allow-unsigned, which returns a loud warning', () => {
    expect(thrown(() => checkSignature({ ...input, signature: undefined })).code).toBe('SIGNATURE_MISSING')
    const allowed = checkSignature({ ...input, signature: undefined, allowUnsigned: true })
    expect(allowed).toMatchObject({ status: 'unsigned', reason: 'it has no signature' })
    expect(allowed.status === 'unsigned' && allowed.warning).toMatch(/NOT authenticated.*--allow-unsigned/)
  })

  it('refuses a wrong or untrusted signature even with --allow-unsigned', () => {
    const changed = Buffer.from(sidecar)
    changed[0]! ^= 1
    expect(thrown(() => checkSignature({ ...input, bytes: changed, allowUnsigned: true })).code).toBe(
      'SIGNATURE_INVALID',
    )
    const forged = signSidecar(sidecar, id, strangerKey, at)
    expect(thrown(() => checkSignature({ ...input, signature: forged, allowUnsigned: true })).code).toBe(
      'SIGNATURE_UNTRUSTED',
    )
  })

  it('needs public keys to check anything: CONFIG_MISSING, or unsigned with --allow-unsigned', () => {
    const error = thrown(() => checkSignature({ ...input, trusted: [] }))
    expect(error.code).toBe('CONFIG_MISSING')
    expect(error.message).toContain('BACKUP_SIGNING_PUBLIC_KEYS')
    expect(checkSignature({ ...input, trusted: [], allowUnsigned: true }).status).toBe('unsigned')
  })
})

describe('settings', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-keys-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('takes BACKUP_SIGNING_KEY as the key text, held as a Secret that never prints', async () => {
    const reader = new SettingsReader({ BACKUP_SIGNING_KEY: current.secretKeyFile })
    const source = readSigningKeySource(reader)
    reader.finish()
    expect(source?.kind).toBe('inline')
    const secretLine = current.secretKeyFile.split('\n')[1]!
    expect(`${inspect(source)} ${JSON.stringify(source)}`).not.toContain(secretLine.slice(10, 40))
    expect((await loadSigningKey(source!)).keyId).toBe(current.keyId)
  })

  it('takes BACKUP_SIGNING_KEY as a path to the key file', async () => {
    const path = join(dir, 'lifeboat.key')
    await writeFile(path, current.secretKeyFile)
    const source = readSigningKeySource(new SettingsReader({ BACKUP_SIGNING_KEY: path }))
    expect(source).toEqual({ kind: 'file', path })
    expect((await loadSigningKey(source!)).keyId).toBe(current.keyId)
    const missing = await loadSigningKey({ kind: 'file', path: join(dir, 'nope.key') }).catch((e) => e)
    expect(missing.code).toBe('CONFIG_INVALID')
    expect(missing.message).toContain('nope.key')
  })

  it('reports a bad inline key with the other settings, without quoting it', () => {
    const bad = editLine(current.secretKeyFile, 1, (b) => b.write('Sc', 2))
    const reader = new SettingsReader({ BACKUP_SIGNING_KEY: bad })
    readSigningKeySource(reader)
    const error = thrown(() => reader.finish())
    expect(error.code).toBe('CONFIG_INVALID')
    expect(error.message).toContain('BACKUP_SIGNING_KEY')
    expect(error.message).not.toContain(bad.split('\n')[1]!.slice(60, 90))
  })

  it('takes BACKUP_SIGNING_PUBLIC_KEYS inline (several) or as a file', async () => {
    const lines = [current, next].map((k) => k.publicKeyFile.split('\n')[1]!).join(',')
    const inline = readTrustedKeysSource(new SettingsReader({ BACKUP_SIGNING_PUBLIC_KEYS: lines }))
    expect((await loadTrustedKeys(inline!)).map((k) => k.keyId)).toEqual([current.keyId, next.keyId])
    const path = join(dir, 'trusted.pub')
    await writeFile(path, current.publicKeyFile + next.publicKeyFile)
    const fromFile = readTrustedKeysSource(new SettingsReader({ BACKUP_SIGNING_PUBLIC_KEYS: path }))
    expect(fromFile).toEqual({ kind: 'file', path })
    expect(await loadTrustedKeys(fromFile!)).toHaveLength(2)
    expect(readTrustedKeysSource(new SettingsReader({}))).toBeUndefined()
  })

  it('reports a bad public key entry as CONFIG_INVALID naming the setting', () => {
    const reader = new SettingsReader({
      BACKUP_SIGNING_PUBLIC_KEYS: `${current.publicKeyFile.split('\n')[1]},RWbad`,
    })
    readTrustedKeysSource(reader)
    const error = thrown(() => reader.finish())
    expect(error.message).toBe(
      'BACKUP_SIGNING_PUBLIC_KEYS entry 2 is not a minisign public key (RW…, 56 characters)',
    )
  })
})
