// The deadline as a signal, the error a failed backup reports (its first cause, named),
// an empty selection, and a missing bucket: each message says what actually happened.
import { describe, expect, it } from 'vitest'
import { s3Error, storeTimeouts } from '../../lib/adapters/store/s3-store.ts'
import { explainFailure } from '../../lib/backup/failure.ts'
import { describeSelection, nothingSelected } from '../../lib/backup/selection-check.ts'
import { SettingsReader } from '../../lib/core/config.ts'
import { formatDuration, parseDuration, readDeadline, withDeadline } from '../../lib/core/deadline.ts'
import { LifeboatError } from '../../lib/core/errors.ts'
import { selectEverything } from '../../lib/core/selection.ts'

describe('durations', () => {
  it.each([
    ['90m', 5_400_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['45s', 45_000],
    ['3600', 3_600_000],
    ['0', 0],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['', 'soon', '1e3', '-5m', '2 h', '1.5h'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined()
  })

  it('prints as people write them', () => {
    expect([formatDuration(5_400_000), formatDuration(45_000), formatDuration(0)]).toEqual([
      '1h30m',
      '45s',
      '0s',
    ])
  })

  it('reads LIFEBOAT_DEADLINE with a 2 h default and names a bad value', () => {
    expect(readDeadline(new SettingsReader({}))).toBe(7_200_000)
    expect(readDeadline(new SettingsReader({ LIFEBOAT_DEADLINE: '0' }))).toBe(0)
    const reader = new SettingsReader({ LIFEBOAT_DEADLINE: 'tomorrow' })
    readDeadline(reader)
    expect(() => reader.finish()).toThrow(/LIFEBOAT_DEADLINE \(--deadline\) must be a duration/)
  })
})

describe('withDeadline', () => {
  it('aborts with DEADLINE_EXCEEDED once the time is up', async () => {
    const { signal, dispose } = withDeadline(undefined, 30)
    await new Promise((done) => signal.addEventListener('abort', done, { once: true }))
    expect(signal.reason).toBeInstanceOf(LifeboatError)
    expect((signal.reason as LifeboatError).code).toBe('DEADLINE_EXCEEDED')
    dispose()
  })

  it('still follows the harness signal (SIGINT) first', () => {
    const harness = new AbortController()
    const { signal, dispose } = withDeadline(harness.signal, 60_000)
    harness.abort(new LifeboatError('INTERRUPTED', 'interrupted by SIGINT'))
    expect((signal.reason as LifeboatError).code).toBe('INTERRUPTED')
    dispose()
  })

  it('without a deadline is the harness signal itself', () => {
    const harness = new AbortController()
    expect(withDeadline(harness.signal, 0).signal).toBe(harness.signal)
  })
})

describe('the error a failed backup reports', () => {
  const destroyed = new LifeboatError(
    'DB_QUERY',
    'exporting public.t: Cannot call write after a stream was destroyed',
  )

  it("is the store's own error when the store failed first", () => {
    const store = new LifeboatError('STORE_UNREACHABLE', 'cannot write …: store unreachable (TimeoutError)')
    expect(explainFailure(destroyed, { storeFailure: store, tempDir: '/tmp' }).code).toBe('STORE_UNREACHABLE')
  })

  it('is TEMP_DISK_FULL, naming the folder, when the temp disk filled', () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    const error = explainFailure(
      new LifeboatError('DB_QUERY', 'exporting public.t: ENOSPC', { cause: full }),
      {
        tempDir: '/mnt/small',
      },
    )
    expect(error.code).toBe('TEMP_DISK_FULL')
    expect(error.message).toContain('the temp folder /mnt/small ran out of space (ENOSPC)')
  })

  it('stays an interrupt or a deadline when the run was cancelled', () => {
    const deadline = new LifeboatError('DEADLINE_EXCEEDED', 'the deadline passed')
    const store = new LifeboatError('STORE_IO', 'AbortError')
    expect(explainFailure(deadline, { storeFailure: store, tempDir: '/tmp' }).code).toBe('DEADLINE_EXCEEDED')
  })
})

describe('an empty selection', () => {
  it('is SELECTION_EMPTY, naming the patterns as they were typed', () => {
    const error = nothingSelected({ ...selectEverything, tables: ['nosuchtable'] }, 'database app')
    expect(error.code).toBe('SELECTION_EMPTY')
    expect(error.exitCode).toBe(1)
    expect(error.message).toBe(
      'no table in database app matched the selection (-t nosuchtable); nothing was backed up and nothing was written',
    )
    expect(
      describeSelection({ schemas: ['a'], excludeSchemas: ['b'], tables: ['c'], excludeTables: ['d'] }),
    ).toBe('-n a -N b -t c -T d')
  })
})

describe('S3 errors', () => {
  it('names a missing bucket as such, not as a missing backup', () => {
    const error = Object.assign(new Error('The specified bucket does not exist'), {
      name: 'NoSuchBucket',
      $metadata: { httpStatusCode: 404 },
    })
    const mapped = s3Error(error, 'cannot list s3://nope/database-backups/')
    expect(mapped.code).toBe('STORE_MISSING')
    expect(mapped.message).toContain('the bucket does not exist (NoSuchBucket)')
  })

  it('has connect, idle-socket and response timeouts on every request', () => {
    expect(storeTimeouts(60)).toEqual({
      connectionTimeout: 10_000,
      socketTimeout: 60_000,
      requestTimeout: 600_000,
      throwOnRequestTimeout: true,
    })
    expect(storeTimeouts(2).connectionTimeout).toBe(2000)
  })
})
