import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, type Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { generateHybridIdentity, generateIdentity, identityToRecipient } from 'age-encryption'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  decryptStream,
  encryptStream,
  identityMatches,
  loadIdentity,
  recipientOf,
  recipientsOf,
} from '../../lib/adapters/crypto/age.ts'
import { LifeboatError } from '../../lib/core/errors.ts'
import { Secret } from '../../lib/core/secret.ts'

const MiB = 1024 * 1024
const CHUNK = 64 * 1024

interface Key {
  identity: Secret
  recipient: string
  raw: string
}

async function newKey(generate = generateIdentity): Promise<Key> {
  const raw = await generate()
  return { raw, identity: new Secret(raw), recipient: await identityToRecipient(raw) }
}

/** Pushes `data` through the transforms in pieces of the given sizes (cycled). */
async function run(
  data: Buffer,
  transforms: Transform[],
  sizes: number[] = [data.length || 1],
): Promise<Buffer> {
  const out: Buffer[] = []
  async function* pieces() {
    for (let offset = 0, i = 0; offset < data.length; i++) {
      const n = sizes[i % sizes.length]!
      yield data.subarray(offset, offset + n)
      offset += n
    }
  }
  await pipeline(
    Readable.from(pieces()),
    ...(transforms as [Transform]),
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) out.push(chunk)
    },
  )
  return Buffer.concat(out)
}

async function encrypt(data: Buffer, recipients: string[]): Promise<Buffer> {
  return run(data, [encryptStream(recipients)])
}

/** Decrypts, returning the error and whatever plaintext came out before it. */
async function decryptFailure(ciphertext: Buffer, identity: Secret): Promise<LifeboatError> {
  const error = await run(ciphertext, [decryptStream(identity)]).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(LifeboatError)
  return error as LifeboatError
}

function headerLength(ciphertext: Buffer): number {
  return ciphertext.indexOf('\n', ciphertext.indexOf('\n---') + 1) + 1
}

let alice: Key
let bob: Key
let carol: Key

// The header for one X25519 recipient has a fixed length.
let headerBytesFor1Recipient = 0

beforeAll(async () => {
  ;[alice, bob, carol] = await Promise.all([newKey(), newKey(), newKey()])
  headerBytesFor1Recipient = headerLength(await encrypt(Buffer.alloc(0), [alice.recipient]))
})

describe('age streams: round trip', () => {
  it('streams 200 MB in small pieces through encrypt and decrypt with bounded memory', async () => {
    const size = 200 * MiB
    const pattern = randomBytes(MiB + 17)
    const source = async function* () {
      // Pieces of uneven sizes (as gzip and sockets produce), never aligned with age's 64 KiB chunks.
      const sizes = [1, 4093, 65_537, 16_384, 123_457, 7]
      for (let sent = 0, i = 0; sent < size; i++) {
        const n = Math.min(sizes[i % sizes.length]!, size - sent)
        const start = (sent * 7) % (pattern.length - n)
        yield pattern.subarray(start, start + n)
        sent += n
      }
    }
    const plainHash = createHash('sha256')
    const outHash = createHash('sha256')
    let cipherBytes = 0
    let plainBytes = 0
    const before = process.memoryUsage().rss
    let peak = before
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 20)
    const started = performance.now()
    await pipeline(
      Readable.from(source()),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          plainHash.update(chunk)
          yield chunk
        }
      },
      encryptStream([alice.recipient]),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          cipherBytes += chunk.length
          yield chunk
        }
      },
      decryptStream(alice.identity),
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) {
          plainBytes += chunk.length
          outHash.update(chunk)
        }
      },
    )
    const seconds = (performance.now() - started) / 1000
    clearInterval(timer)
    peak = Math.max(peak, process.memoryUsage().rss)
    const growth = (peak - before) / MiB
    console.info(
      `age round trip: ${size / MiB} MB in ${seconds.toFixed(2)} s = ${(size / MiB / seconds).toFixed(0)} MB/s ` +
        `(encrypt + decrypt + 2× sha256), RSS growth ${growth.toFixed(0)} MB`,
    )
    expect(plainBytes).toBe(size)
    expect(outHash.digest('hex')).toBe(plainHash.digest('hex'))
    // One 16-byte tag per 64 KiB chunk, after the header and the 16-byte nonce.
    expect(cipherBytes - size).toBe(headerBytesFor1Recipient + 16 + Math.ceil(size / CHUNK) * 16)
    // Garbage collection makes RSS noisy (40–70 MB seen); holding the stream would take 400 MB.
    expect(growth).toBeLessThan(150)
  }, 120_000)

  it.each([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5])(
    'round-trips %i bytes, fed one odd piece size at a time',
    async (size) => {
      const data = randomBytes(size)
      const ciphertext = await run(data, [encryptStream([alice.recipient])], [777, 1, 65_552])
      // The final chunk may be full; it is empty only when the whole payload is.
      const chunks = Math.max(1, Math.ceil(size / CHUNK))
      expect(ciphertext.length - headerLength(ciphertext)).toBe(16 + size + chunks * 16)
      for (const sizes of [[1], [3, 65_552, 65_553], [ciphertext.length || 1]]) {
        expect((await run(ciphertext, [decryptStream(alice.identity)], sizes)).equals(data)).toBe(true)
      }
    },
  )

  it('encrypts to several recipients; each identity alone decrypts', async () => {
    const data = randomBytes(3 * MiB + 11)
    const ciphertext = await encrypt(data, [alice.recipient, bob.recipient, carol.recipient])
    expect(ciphertext.toString('latin1').match(/\n-> X25519 /g)).toHaveLength(3)
    for (const key of [alice, bob, carol]) {
      expect((await run(ciphertext, [decryptStream(key.identity)], [50_000])).equals(data)).toBe(true)
    }
  })

  it('decrypts with a key file holding several keys and comments, as `age -i` reads it', async () => {
    const data = randomBytes(100_000)
    const ciphertext = await encrypt(data, [carol.recipient])
    const keyFile = new Secret(
      `# created: now\n# public key: ${alice.recipient}\n${alice.raw}\n\n# another\n${carol.raw}\n`,
    )
    expect((await run(ciphertext, [decryptStream(keyFile)])).equals(data)).toBe(true)
  })

  it('supports post-quantum hybrid keys (age1pq1…)', async () => {
    const pq = await newKey(generateHybridIdentity)
    expect(pq.recipient).toMatch(/^age1pq1/)
    const data = randomBytes(200_000)
    const ciphertext = await encrypt(data, [pq.recipient])
    expect((await run(ciphertext, [decryptStream(pq.identity)])).equals(data)).toBe(true)
  })
})

describe('age streams: failures are DECRYPT_FAILED and write nothing', () => {
  let data: Buffer
  let ciphertext: Buffer

  beforeAll(async () => {
    data = randomBytes(5 * CHUNK + 1234)
    ciphertext = await encrypt(data, [alice.recipient, bob.recipient])
  })

  async function expectFailure(input: Buffer, pattern: RegExp, identity = alice.identity): Promise<void> {
    const out: Buffer[] = []
    const error = await pipeline(
      Readable.from([input]),
      decryptStream(identity, { name: 'backup-2026-01-01T000000Z.tar.gz.age' }),
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) out.push(chunk)
      },
    ).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(LifeboatError)
    const failure = error as LifeboatError
    expect(failure.code).toBe('DECRYPT_FAILED')
    expect(failure.exitCode).toBe(1)
    expect(failure.message).toMatch(/^backup-2026-01-01T000000Z\.tar\.gz\.age /)
    expect(failure.message).toMatch(pattern)
    for (const key of [alice, bob, carol]) expect(failure.message).not.toContain(key.raw.slice(16))
  }

  it('wrong identity: no output at all', async () => {
    const error = await decryptFailure(ciphertext, carol.identity)
    expect(error.code).toBe('DECRYPT_FAILED')
    expect(error.message).toBe(
      'the archive cannot be opened with BACKUP_AGE_IDENTITY: no key matches its recipients',
    )
    await expectFailure(ciphertext, /no key matches/, carol.identity)
  })

  it('missing identity', () => {
    expect(() => decryptStream(undefined)).toThrow(
      expect.objectContaining({
        code: 'DECRYPT_FAILED',
        message: expect.stringMatching(/BACKUP_AGE_IDENTITY is not set/),
      }),
    )
  })

  it('a flipped byte in any payload chunk', async () => {
    const start = headerLength(ciphertext) + 16
    for (const offset of [start, start + CHUNK + 16 + 99, ciphertext.length - 1]) {
      const bad = Buffer.from(ciphertext)
      bad[offset]! ^= 0x01
      await expectFailure(bad, /corrupted|fails authentication/)
    }
  })

  it('a flipped byte in the payload nonce or the header', async () => {
    const start = headerLength(ciphertext)
    const nonce = Buffer.from(ciphertext)
    nonce[start + 3]! ^= 0x80
    await expectFailure(nonce, /chunk 1 fails authentication/)
    const mac = Buffer.from(ciphertext)
    mac[start - 5] = mac[start - 5] === 0x41 ? 0x42 : 0x41
    await expectFailure(mac, /header/)
    const stanza = Buffer.from(ciphertext)
    const body = ciphertext.indexOf('\n', ciphertext.indexOf('-> X25519')) + 5
    stanza[body] = stanza[body] === 0x41 ? 0x42 : 0x41
    // Alice's stanza no longer opens; Bob's still does, but the header MAC then fails.
    await expectFailure(stanza, /no key matches|header/)
    await expectFailure(stanza, /header MAC/, bob.identity)
  })

  it('truncation at a chunk boundary: the missing final chunk is detected', async () => {
    const start = headerLength(ciphertext) + 16
    await expectFailure(
      ciphertext.subarray(0, start + 2 * (CHUNK + 16)),
      /truncated: it ends after chunk 2 without/,
    )
  })

  it('truncation inside a chunk, after the header, and inside the header', async () => {
    const start = headerLength(ciphertext)
    await expectFailure(ciphertext.subarray(0, ciphertext.length - 100), /corrupted or truncated/)
    await expectFailure(ciphertext.subarray(0, start + 16), /corrupted or truncated/)
    await expectFailure(ciphertext.subarray(0, start + 7), /truncated: it ends inside its age header/)
    await expectFailure(ciphertext.subarray(0, start - 10), /truncated: it ends inside its age header/)
    await expectFailure(ciphertext.subarray(0, 10), /truncated: it ends inside its age header/)
  })

  it('data appended after the final chunk', async () => {
    await expectFailure(Buffer.concat([ciphertext, Buffer.from('x')]), /corrupted|fails authentication/)
  })

  it('input that is not age: plain gzip, armor, empty', async () => {
    await expectFailure(
      Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0x0a, 0x0a]),
      /is not an age-encrypted file/,
    )
    await expectFailure(Buffer.from('-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n'), /ASCII-armored/)
    await expectFailure(Buffer.alloc(0), /is empty/)
    await expectFailure(Buffer.from('age-encryption.org/v2\n'), /is not an age-encrypted file/)
    await expectFailure(Buffer.from('age-encryption.org/v1\n-> X25519\n--- AAAA\n'), /malformed age header/)
  })
})

describe('age keys and configuration errors', () => {
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-age-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('rejects bad recipients and identities at once with CONFIG_INVALID, never echoing them', () => {
    expect(() => encryptStream([])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }))
    expect(() => encryptStream([alice.recipient, alice.raw])).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(/^BACKUP_AGE_RECIPIENTS entry 2/),
      }),
    )
    try {
      decryptStream(new Secret(`${alice.raw.slice(0, -3)}QQQ`))
      expect.unreachable()
    } catch (error) {
      expect(error).toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(/^BACKUP_AGE_IDENTITY/),
      })
      expect((error as Error).message).not.toContain(alice.raw.slice(20, 50))
    }
  })

  it('loads an identity from a key file, or inline, and derives its public key', async () => {
    const path = join(dir, 'key.txt')
    await writeFile(path, `# created: 2026-01-01T00:00:00Z\n# public key: ${bob.recipient}\n${bob.raw}\n`)
    const fromFile = await loadIdentity({ kind: 'file', path })
    expect(String(fromFile)).toBe('**redacted**')
    expect(await recipientOf(fromFile)).toBe(bob.recipient)
    const inline = await loadIdentity({ kind: 'inline', text: new Secret(`${alice.raw}\n${carol.raw}`) })
    expect(await recipientsOf(inline)).toEqual([alice.recipient, carol.recipient])
    expect(await identityMatches(inline, [bob.recipient, carol.recipient])).toBe(true)
    expect(await identityMatches(fromFile, [alice.recipient])).toBe(false)
  })

  it('explains a key file that is missing or holds no private key', async () => {
    const missing = join(dir, 'nope.txt')
    await expect(loadIdentity({ kind: 'file', path: missing })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `BACKUP_AGE_IDENTITY is neither an age private key (AGE-SECRET-KEY-1…) nor a key file: the file ${missing} does not exist`,
    })
    const publicOnly = join(dir, 'public.txt')
    await writeFile(publicOnly, `${alice.recipient}\n`)
    await expect(loadIdentity({ kind: 'file', path: publicOnly })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message:
        'BACKUP_AGE_IDENTITY key file line 1 is a public key (age1…); it needs the private key (AGE-SECRET-KEY-1…)',
    })
  })
})
