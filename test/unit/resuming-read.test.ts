// A stored object's read that breaks is started again from the first byte not yet passed
// on, when the break is transient; the bytes that come out are the object's, in order.
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { resumingRead } from '../../lib/adapters/store/resuming-read.ts'

const OBJECT = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join(''))

/** A connection reset, as Node reports a socket that broke mid-response. */
const reset = () => Object.assign(new Error('aborted'), { code: 'ECONNRESET' })

/** The object's bytes from `from`, in 1 KiB chunks; with `breakAfter`, broken after that many bytes. */
function served(from: number, breakAfter?: number, error: Error = reset()): Readable {
  return Readable.from(
    (async function* () {
      for (let at = from; at < OBJECT.length; at += 1024) {
        if (breakAfter !== undefined && at - from >= breakAfter) throw error
        yield OBJECT.subarray(at, Math.min(at + 1024, OBJECT.length))
      }
    })(),
  )
}

const options = (signal = new AbortController().signal) => ({ resumes: 3, signal, delayMs: () => 1 })

describe('resumingRead', () => {
  it('passes the whole object on, reopened where each break left it', async () => {
    const reopened: number[] = []
    const told: number[] = []
    const read = resumingRead(
      served(0, 10 * 1024),
      async (from) => {
        reopened.push(from)
        return served(from, reopened.length === 1 ? 8 * 1024 : undefined)
      },
      { ...options(), onResume: (from) => told.push(from) },
    )
    expect((await buffer(read)).equals(OBJECT)).toBe(true)
    expect(reopened).toEqual([10 * 1024, 18 * 1024])
    expect(told).toEqual(reopened)
  })

  it('does not resume what is not transient: the error ends the read', async () => {
    let reopened = 0
    const refusal = Object.assign(new Error('Access Denied'), { $metadata: { httpStatusCode: 403 } })
    const read = resumingRead(
      served(0, 4096, refusal),
      async (from) => {
        reopened++
        return served(from)
      },
      options(),
    )
    await expect(buffer(read)).rejects.toThrow('Access Denied')
    expect(reopened).toBe(0)
  })

  it('gives up after `resumes` breaks in a row with no byte between them', async () => {
    let reopened = 0
    const read = resumingRead(
      served(0, 4096),
      async (from) => {
        reopened++
        return served(from, 0)
      },
      options(),
    )
    await expect(buffer(read)).rejects.toMatchObject({ code: 'ECONNRESET' })
    expect(reopened).toBe(3)
  })

  it('fails with what `failure` makes of the error that ended it', async () => {
    const read = resumingRead(served(0, 4096), async (from) => served(from, 0), {
      ...options(),
      failure: (error) => new Error(`reading the object: ${(error as Error).message}`),
    })
    await expect(buffer(read)).rejects.toThrow('reading the object: aborted')
  })

  it('once its signal has fired, fails with the break itself, not what `failure` makes of it', async () => {
    const controller = new AbortController()
    controller.abort()
    const read = resumingRead(served(0, 2048), async (from) => served(from), {
      ...options(controller.signal),
      failure: () => new Error('mapped'),
    })
    await expect(buffer(read)).rejects.toMatchObject({ code: 'ECONNRESET' })
  })

  it('counts only breaks in a row: one that follows progress starts the count again', async () => {
    let reopened = 0
    const read = resumingRead(
      served(0, 1024),
      async (from) => {
        reopened++
        return served(from, 1024)
      },
      options(),
    )
    expect((await buffer(read)).equals(OBJECT)).toBe(true)
    expect(reopened).toBeGreaterThan(3)
  })

  it('a reopen that fails transiently counts as a break and is tried again', async () => {
    const attempts: string[] = []
    const read = resumingRead(
      served(0, 2048),
      async (from) => {
        attempts.push(`from ${from}`)
        if (attempts.length === 1)
          throw Object.assign(new Error('Service Unavailable'), { $metadata: { httpStatusCode: 503 } })
        return served(from)
      },
      options(),
    )
    expect((await buffer(read)).equals(OBJECT)).toBe(true)
    expect(attempts).toEqual(['from 2048', 'from 2048'])
  })

  it('closes the first body when it is destroyed before anything was read', async () => {
    const first = served(0)
    const read = resumingRead(first, async (from) => served(from), options())
    read.destroy()
    await new Promise((resolve) => read.once('close', resolve))
    expect(first.destroyed).toBe(true)
  })

  it('stops waiting to resume when the signal fires', async () => {
    const controller = new AbortController()
    let reopened = 0
    const read = resumingRead(
      served(0, 2048),
      async (from) => {
        reopened++
        return served(from)
      },
      { resumes: 3, signal: controller.signal, delayMs: () => 60_000, onResume: () => controller.abort() },
    )
    await expect(buffer(read)).rejects.toMatchObject({ name: 'AbortError' })
    expect(reopened).toBe(0)
  })
})
