// LIFEBOAT_RECORD_STORE / --record-store: where a drill or DR test writes its records when
// the store it restores from is read-only (the replica). Same URL forms as BACKUP_STORE, its
// own region, and a bad value is a configuration error (exit 2) named by where it came from.
import { describe, expect, it } from 'vitest'
import { readRecordStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { readDrillConfig, readDrTestConfig } from '../../lib/core/drill-config.ts'
import { ExitCode, type LifeboatError } from '../../lib/core/errors.ts'

const REPLICA = {
  BACKUP_STORE: 's3://acme-lifeboat-backups-replica/production',
  AWS_REGION: 'eu-west-1',
}

function configError(read: () => unknown): LifeboatError {
  try {
    read()
  } catch (error) {
    return error as LifeboatError
  }
  throw new Error('the settings were accepted')
}

describe('the record store of a drill and a DR test', () => {
  it('is the backup store itself unless set (today’s behaviour)', () => {
    expect(readDrillConfig(REPLICA, {}).records).toBeUndefined()
    expect(readDrTestConfig(REPLICA, {}).records).toBeUndefined()
  })

  it('reads backups from the replica in its region and writes records to the primary in another', () => {
    const config = readDrTestConfig(
      {
        ...REPLICA,
        LIFEBOAT_RECORD_STORE: 's3://acme-lifeboat-backups/production/',
        LIFEBOAT_RECORD_STORE_REGION: 'us-east-1',
      },
      {},
    )
    expect(config.store.s3).toMatchObject({
      bucket: 'acme-lifeboat-backups-replica',
      prefix: 'production',
      region: 'eu-west-1',
    })
    expect(config.records?.url).toBe('s3://acme-lifeboat-backups/production/')
    expect(config.records?.s3).toMatchObject({
      bucket: 'acme-lifeboat-backups',
      prefix: 'production',
      region: 'us-east-1',
    })
  })

  it('shares the backup store’s region when it has none of its own', () => {
    const config = readDrillConfig({ ...REPLICA, LIFEBOAT_RECORD_STORE: 's3://records' }, {})
    expect(config.records?.s3).toMatchObject({ bucket: 'records', prefix: '', region: 'eu-west-1' })
  })

  it('takes --record-store over the variable, and the folder forms BACKUP_STORE takes', () => {
    const flag = readDrTestConfig(
      { ...REPLICA, LIFEBOAT_RECORD_STORE: 's3://ignored' },
      { 'record-store': '/srv/records' },
    )
    expect(flag.records).toEqual({ url: 'file:///srv/records' })
    expect(readDrillConfig({ ...REPLICA, LIFEBOAT_RECORD_STORE: 'file:///srv/r' }, {}).records).toEqual({
      url: 'file:///srv/r',
    })
  })

  it('refuses a value that is no store (exit 2), named by where it came from, with the other problems', () => {
    const fromEnv = configError(() =>
      readDrTestConfig({ ...REPLICA, LIFEBOAT_RECORD_STORE: 'primary', RTO_TARGET: 'soon' }, {}),
    )
    expect(fromEnv.code).toBe('CONFIG_INVALID')
    expect(fromEnv.exitCode).toBe(ExitCode.usage)
    expect(fromEnv.details).toEqual([
      'RTO_TARGET must be a duration such as 4h, 90m, 30s or seconds, got "soon"',
      'LIFEBOAT_RECORD_STORE must be s3://bucket/prefix, file://path or a path starting with / or ., got "primary"',
    ])
    const fromFlag = configError(() => readDrillConfig(REPLICA, { 'record-store': 'gs://bucket' }))
    expect(fromFlag.details).toEqual([
      '--record-store must be s3://bucket/prefix, file://path or a path starting with / or ., got "gs://bucket"',
    ])
  })

  it('names a bad setting both stores share once', () => {
    const error = configError(() =>
      readDrTestConfig(
        { ...REPLICA, LIFEBOAT_RECORD_STORE: 's3://records', AWS_ENDPOINT_URL_S3: 'localhost:9000' },
        {},
      ),
    )
    expect(error.details).toEqual([
      'AWS_ENDPOINT_URL_S3 must be an http(s) URL such as http://127.0.0.1:9000',
    ])
  })

  it('is read alone, without BACKUP_STORE', () => {
    const reader = new SettingsReader({ LIFEBOAT_RECORD_STORE: './records' })
    expect(readRecordStoreConfig(reader)).toEqual({ url: 'file://./records' })
    expect(() => reader.finish()).not.toThrow()
  })
})
