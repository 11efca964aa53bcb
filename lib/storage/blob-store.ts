// Content-addressed blobs in the backup store: one object per distinct content, keyed by
// the sha256 of its plaintext, age-encrypted when the backups are. Reads come back
// decrypted and checked against the manifest's sha256 and size.

import { createReadStream } from 'node:fs'
import { dirname } from 'node:path'
import { pipeline, type Readable, type Transform } from 'node:stream'
import { encryptStream } from '../adapters/crypto/age.ts'
import { readResuming } from '../adapters/store/resuming-read.ts'
import { isKeyExists, type Store } from '../adapters/store/store.ts'
import { LifeboatError } from '../core/errors.ts'
import { ContentCheck, type ExpectedContent } from './hashing.ts'
import { BLOBS_PREFIX, blobKey, keysetOf } from './layout.ts'

export type Decrypt = (name: string) => Transform

export class BlobStore {
  readonly store: Store
  /** Names the recipient set blobs are encrypted to; null for plain blobs. */
  readonly keyset: string | null
  readonly #recipients: readonly string[]

  constructor(store: Store, recipients: readonly string[] = []) {
    this.store = store
    this.#recipients = recipients
    this.keyset = recipients.length > 0 ? keysetOf(recipients) : null
  }

  keyOf(sha256: string): string {
    return blobKey(sha256, this.keyset)
  }

  /** Every blob the store holds: key → stored size. Listing, not HEAD: the writer role may not read. */
  async list(): Promise<Map<string, number>> {
    return new Map((await this.store.list(BLOBS_PREFIX)).map((o) => [o.key, o.size]))
  }

  /** Uploads a spooled file of `bytes` as the blob of `sha256`; returns the stored size. */
  async putFile(sha256: string, path: string, label: string, bytes: number): Promise<number> {
    const source = createReadStream(path)
    const body =
      this.#recipients.length > 0
        ? pipeline(source, encryptStream(this.#recipients, { name: label }), () => undefined)
        : source
    const key = this.keyOf(sha256)
    try {
      // Create-only: the writer role can never replace stored content (docs/storage.md).
      // Its size sizes the parts (age adds a few bytes per 64 KiB); large ones wait beside the spool.
      const stored = await this.store.put(key, body as Readable, {
        ifNoneMatch: '*',
        expectedBytes: bytes,
        tempDir: dirname(path),
      })
      return stored.bytes
    } catch (error) {
      if (!isKeyExists(error)) throw error
      // Another backup stored the same content meanwhile: its blob serves this one too.
      source.destroy()
      const listed = (await this.store.list(key)).find((o) => o.key === key)
      if (!listed) throw error
      return listed.size
    }
  }
}

/**
 * The blob at `key` as plaintext that errors (VERIFY_FAILED, naming `expected.label`)
 * before it ends if the content differs from `expected`. `.age` blobs need `decrypt`.
 */
export async function openBlob(
  store: Store,
  key: string,
  expected: ExpectedContent,
  decrypt: Decrypt | undefined,
  onBytes?: (n: number) => void,
): Promise<Readable> {
  const encrypted = key.endsWith('.age')
  if (encrypted && !decrypt) {
    throw new LifeboatError(
      'DECRYPT_FAILED',
      `${expected.label} is age-encrypted and no identity is configured`,
    )
  }
  // A reset connection is read on from where it broke; the check below sees every byte.
  const stored = await readResuming(store, key)
  const check = new ContentCheck(expected, onBytes)
  const stages: (Readable | Transform)[] = [stored]
  if (encrypted) stages.push(decrypt!(expected.label))
  stages.push(check)
  // pipeline destroys every stage with the first error, so the reader of `check` sees it.
  return pipeline(stages as [Readable, ...Transform[]], () => undefined) as unknown as Readable
}
