// Create-only writes (`If-None-Match: *`, link(2)) that know their own landed write: a
// request that reached the store but whose answer was lost is retried by the S3 client,
// and the retry finds the key taken (412). Reported as STORE_KEY_EXISTS, that is a false
// failure of a complete backup; these writes look at what the key holds instead.
import { pipeline, type Readable, Transform } from 'node:stream'
import { isKeyExists, type PutOptions, type Store } from './store.ts'

type CreateOnlyOptions = Omit<PutOptions, 'ifNoneMatch'>

/**
 * Bytes or text held in memory (a sidecar, a signature, a report): done when the key holds exactly these
 * bytes. A key holding anything else, or one the role may not read, is STORE_KEY_EXISTS.
 */
export async function putCreateOnly(
  store: Store,
  key: string,
  body: Buffer | string,
  options: CreateOnlyOptions = {},
): Promise<void> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  try {
    await store.put(key, bytes, { ...options, ifNoneMatch: '*' })
  } catch (error) {
    if (!isKeyExists(error) || !(await holds(store, key, bytes))) throw error
  }
}

/**
 * A body under a key this job has claimed (its backup id, its lock owner, a random audit
 * key: no other writer uses it): when the store fails after the whole body went out and
 * the key holds an object of exactly that size, the put landed and is done (the object
 * appears whole or not at all). What an archive or manifest holds is checked later
 * against the sha256 its sidecar names. Needs list, not read, permission on the key.
 */
export async function putClaimed(
  store: Store,
  key: string,
  body: Readable | Buffer | string,
  options: CreateOnlyOptions = {},
): Promise<{ bytes: number }> {
  const inMemory = typeof body === 'string' ? Buffer.from(body) : body
  const sent = Buffer.isBuffer(inMemory)
    ? { bytes: inMemory.length, whole: true }
    : { bytes: 0, whole: false }
  const payload = Buffer.isBuffer(inMemory) ? inMemory : metered(inMemory, sent)
  try {
    return await store.put(key, payload, { ...options, ifNoneMatch: '*' })
  } catch (error) {
    const listed = sent.whole ? await store.list(key).catch(() => []) : []
    if (!listed.some((o) => o.key === key && o.size === sent.bytes)) throw error
    return { bytes: sent.bytes }
  }
}

/** `body` counted into `sent` as it goes out; `whole` once it has ended. */
function metered(body: Readable, sent: { bytes: number; whole: boolean }): Readable {
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent.bytes += chunk.length
      done(null, chunk)
    },
    flush(done) {
      sent.whole = true
      done()
    },
  })
  // The callback form: a failing body destroys the meter too, so the store sees the error.
  return pipeline(body, meter, () => undefined)
}

/** Whether `key` holds exactly `body`; reads no further than `body` is long. */
async function holds(store: Store, key: string, body: Buffer): Promise<boolean> {
  let stored: Readable | undefined
  try {
    stored = await store.get(key)
    let at = 0
    for await (const chunk of stored as AsyncIterable<Buffer>) {
      if (at + chunk.length > body.length || !chunk.equals(body.subarray(at, at + chunk.length))) return false
      at += chunk.length
    }
    return at === body.length
  } catch {
    return false
  } finally {
    stored?.destroy()
  }
}
