// Interoperability with the standard age CLI (Debian package `age`), both ways.
// Without the CLI these tests skip with a warning; with CI=true they fail instead.
import { execFile, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, type Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decryptStream, encryptStream, loadIdentity, recipientOf } from '../../lib/adapters/crypto/age.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'
import type { Secret } from '../../lib/core/secret.ts'

const run = promisify(execFile)
const inCi = process.env.CI === 'true'
const hasCli = ['age', 'age-keygen'].every((tool) => spawnSync(tool, ['--version']).error === undefined)
if (!hasCli && !inCi) {
  console.warn('age CLI not on PATH: SKIPPING the age interop tests (install it: apt-get install -y age)')
}

async function transform(data: Buffer, stage: Transform): Promise<Buffer> {
  const out: Buffer[] = []
  await pipeline(Readable.from([data]), stage, async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) out.push(chunk)
  })
  return Buffer.concat(out)
}

// In CI a missing CLI is a failure, never a silent skip.
it.runIf(!hasCli && inCi)('has the age CLI on PATH (CI=true requires it)', () => {
  expect.fail('the age CLI (age, age-keygen) is not on PATH: apt-get install -y age')
})

describe.skipIf(!hasCli)('age CLI interoperability', () => {
  let dir: string
  let keyFile: string
  let recipient: string
  let identity: Secret
  let otherKeyFile: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-age-cli-'))
    keyFile = join(dir, 'key.txt')
    otherKeyFile = join(dir, 'other.txt')
    // age-keygen writes the key with `# created` and `# public key` comment lines.
    const { stderr } = await run('age-keygen', ['-o', keyFile])
    await run('age-keygen', ['-o', otherKeyFile])
    recipient = (await run('age-keygen', ['-y', keyFile])).stdout.trim()
    expect(stderr).toContain(recipient)
    identity = await loadIdentity({ kind: 'file', path: keyFile })
  })

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('reads an age-keygen key file and derives the same public key', async () => {
    expect(await recipientOf(identity)).toBe(recipient)
  })

  it.each([0, 1, 65_536, 65_537, 5 * 1024 * 1024 + 3])(
    '`age -d -i key.txt` opens our archive of %i bytes',
    async (size) => {
      const plain = randomBytes(size)
      const other = (await run('age-keygen', ['-y', otherKeyFile])).stdout.trim()
      const archive = join(dir, `ours-${size}.tar.gz.age`)
      await writeFile(archive, await transform(plain, encryptStream([recipient, other])))
      for (const key of [keyFile, otherKeyFile]) {
        // To stdout: `age -o` creates no file for an empty plaintext.
        const { stdout } = await run('age', ['-d', '-i', key, archive], {
          encoding: 'buffer',
          maxBuffer: 64 * 1024 * 1024,
        })
        expect(stdout.equals(plain)).toBe(true)
      }
    },
  )

  it.each([0, 1, 65_536, 65_537, 5 * 1024 * 1024 + 3])(
    'we open an archive of %i bytes from `age -r`',
    async (size) => {
      const plain = join(dir, `theirs-${size}`)
      const data = randomBytes(size)
      await writeFile(plain, data)
      await run('age', ['-r', recipient, '-o', `${plain}.age`, plain])
      const back = await transform(await readFile(`${plain}.age`), decryptStream(identity))
      expect(back.equals(data)).toBe(true)
    },
  )

  it('a wrong key fails both ways: DECRYPT_FAILED here, a failing exit there', async () => {
    const other = await loadIdentity({ kind: 'file', path: otherKeyFile })
    const plain = join(dir, 'secret.txt')
    await writeFile(plain, 'not for you')
    await run('age', ['-r', recipient, '-o', `${plain}.age`, plain])
    const error = await transform(await readFile(`${plain}.age`), decryptStream(other)).then(
      () => undefined,
      (e: LifeboatError) => e,
    )
    expect(error).toMatchObject({ code: 'DECRYPT_FAILED', message: expect.stringMatching(/no key matches/) })

    const ours = join(dir, 'ours-wrong.age')
    await writeFile(ours, await transform(Buffer.from('not for you'), encryptStream([recipient])))
    await expect(run('age', ['-d', '-i', otherKeyFile, ours])).rejects.toMatchObject({
      stderr: expect.stringMatching(/no identity matched/),
    })
  })

  it('a truncated archive of ours is refused by the CLI too', async () => {
    const ours = join(dir, 'ours-truncated.age')
    const full = await transform(randomBytes(3 * 65_536), encryptStream([recipient]))
    await writeFile(ours, full.subarray(0, full.length - (65_536 + 16)))
    await expect(run('age', ['-d', '-i', keyFile, '-o', join(dir, 'x'), ours])).rejects.toMatchObject({
      code: 1,
    })
  })
})
