// When the uploader sends a streamed part again (lib/adapters/store/s3-resend.ts): which
// failures are transient, and how many attempts a part gets.
import { describe, expect, test } from 'vitest'
import { isTransient, resendDelayMs, withResends } from '../../lib/adapters/store/s3-resend.ts'

const answered = (status: number, name = 'S3ServiceException') =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } })
const network = (code: string) => Object.assign(new Error(`connect ${code}`), { code })

describe('isTransient', () => {
  test.each([500, 502, 503, 504, 408, 429])('an answer %i is worth another attempt', (status) => {
    expect(isTransient(answered(status))).toBe(true)
  })

  test.each([400, 403, 404, 409, 412])('an answer %i is final', (status) => {
    expect(isTransient(answered(status))).toBe(false)
  })

  test.each(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED'])(
    'a connection that failed with %s is worth another attempt',
    (code) => {
      expect(isTransient(network(code))).toBe(true)
    },
  )

  test('a request timeout from the SDK is worth another attempt', () => {
    expect(isTransient(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toBe(true)
  })

  test('an error the SDK marked retryable is worth another attempt', () => {
    expect(isTransient(Object.assign(new Error('busy'), { $retryable: { throttling: true } }))).toBe(true)
  })

  test('an aborted request, a plain error or a non-error is final', () => {
    expect(isTransient(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe(false)
    expect(isTransient(new TypeError('x is undefined'))).toBe(false)
    expect(isTransient('failed')).toBe(false)
    expect(isTransient(undefined)).toBe(false)
  })
})

describe('withResends', () => {
  const noWait = () => 0
  const failing = (errors: unknown[]) => {
    const calls = { count: 0 }
    const attempt = async () => {
      const error = errors[calls.count++]
      if (error !== undefined) throw error
      return 'stored'
    }
    return { calls, attempt }
  }

  test('sends again after transient failures until it succeeds', async () => {
    const { calls, attempt } = failing([answered(500), network('ECONNRESET')])
    const signal = new AbortController().signal
    expect(await withResends(attempt, { attempts: 4, signal, delayMs: noWait })).toBe('stored')
    expect(calls.count).toBe(3)
  })

  test('gives up after the last attempt with its failure', async () => {
    const { calls, attempt } = failing([answered(500), answered(503), answered(502), answered(500)])
    const signal = new AbortController().signal
    await expect(withResends(attempt, { attempts: 3, signal, delayMs: noWait })).rejects.toThrow()
    expect(calls.count).toBe(3)
  })

  test('does not send again after a final failure', async () => {
    const { calls, attempt } = failing([answered(403, 'AccessDenied')])
    const signal = new AbortController().signal
    await expect(withResends(attempt, { attempts: 4, signal, delayMs: noWait })).rejects.toThrow(
      'AccessDenied',
    )
    expect(calls.count).toBe(1)
  })

  test('does not send again once the signal has fired', async () => {
    const stop = new AbortController()
    const attempt = async () => {
      stop.abort(new Error('interrupted'))
      throw answered(500)
    }
    await expect(
      withResends(attempt, { attempts: 4, signal: stop.signal, delayMs: noWait }),
    ).rejects.toThrow()
  })

  test('waits longer after each failure, at most ten seconds', () => {
    expect([1, 2, 3, 4].map(resendDelayMs)).toEqual([200, 400, 800, 1600])
    expect(resendDelayMs(20)).toBe(10_000)
  })
})
