import { describe, expect, it } from 'vitest'
import type { LifeboatError } from '../../lib/core/errors.ts'
import { inventoryOf, type ListedObject, parseSelector, selectBackup } from '../../lib/inventory/inventory.ts'

/** Stored a minute after the time its id names, as a backup with a right clock is. */
function storedAt(key: string): Date {
  const id = /backup-(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(key)
  if (!id) return new Date('2026-01-01T00:00:00Z')
  const [, y, mo, d, h, mi, s] = id.map(Number) as number[]
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi! + 1, s!))
}
const object = (key: string, size = 100, modified = storedAt(key)): ListedObject => ({ key, size, modified })
const complete = (id: string, encrypted = false): ListedObject[] => [
  object(`database-backups/${id}.tar.gz${encrypted ? '.age' : ''}`),
  object(`database-backups/${id}.manifest.json`, 10),
]

function thrown(work: () => unknown): LifeboatError {
  try {
    work()
  } catch (error) {
    return error as LifeboatError
  }
  throw new Error('expected an error')
}

describe('inventoryOf', () => {
  it('pairs archives with sidecars, newest first; an archive alone is incomplete', () => {
    const records = inventoryOf([
      ...complete('backup-2026-01-10T020000Z'),
      object('database-backups/backup-2026-01-12T020000Z.tar.gz'),
      ...complete('backup-2026-01-11T020000Z', true),
    ])
    expect(records.map((r) => [r.id, r.complete, r.archive?.encrypted])).toEqual([
      ['backup-2026-01-12T020000Z', false, false],
      ['backup-2026-01-11T020000Z', true, true],
      ['backup-2026-01-10T020000Z', true, false],
    ])
    expect(records[1]!.time.toISOString()).toBe('2026-01-11T02:00:00.000Z')
  })

  it('a sidecar alone is incomplete too; foreign keys are ignored', () => {
    const records = inventoryOf([
      object('database-backups/backup-2026-01-10T020000Z.manifest.json'),
      object('database-backups/notes.txt'),
      object('drills/backup-2026-01-10T020000Z.json'),
      object('database-backups/backup-2026-13-10T020000Z.tar.gz'),
    ])
    expect(records.map((r) => [r.id, r.complete])).toEqual([['backup-2026-01-10T020000Z', false]])
  })

  it('keeps the encrypted archive when both exist', () => {
    const [record] = inventoryOf([
      object('database-backups/backup-2026-01-10T020000Z.tar.gz.age', 7),
      object('database-backups/backup-2026-01-10T020000Z.tar.gz', 5),
      object('database-backups/backup-2026-01-10T020000Z.manifest.json'),
    ])
    expect(record!.archive).toMatchObject({ encrypted: true, size: 7 })
  })
})

describe('parseSelector', () => {
  it.each([
    ['latest', { kind: 'latest' }],
    ['2026-01-12', { kind: 'date', date: '2026-01-12' }],
    ['2024-02-29', { kind: 'date', date: '2024-02-29' }],
    ['backup-2026-01-12T020000Z', { kind: 'id', id: 'backup-2026-01-12T020000Z' }],
    [
      's3://bucket/prefix/database-backups/backup-2026-01-12T020000Z.tar.gz',
      { kind: 'key', key: 's3://bucket/prefix/database-backups/backup-2026-01-12T020000Z.tar.gz' },
    ],
    [
      'database-backups/backup-2026-01-12T020000Z.tar.gz.age',
      { kind: 'key', key: 'database-backups/backup-2026-01-12T020000Z.tar.gz.age' },
    ],
    ['./backup-2024-03-25.tar.gz', { kind: 'file', path: './backup-2024-03-25.tar.gz' }],
    ['backup-2024-03-25.tar.gz', { kind: 'file', path: 'backup-2024-03-25.tar.gz' }],
    [
      '/var/backups/backup-2026-01-12T020000Z.tar.gz',
      { kind: 'file', path: '/var/backups/backup-2026-01-12T020000Z.tar.gz' },
    ],
    ['backup-2026-01-12T020000Z.tar.gz', { kind: 'file', path: 'backup-2026-01-12T020000Z.tar.gz' }],
  ])('%s', (value, expected) => {
    expect(parseSelector(value)).toEqual(expected)
  })

  it.each(['2024-02-30', '2026-13-01', '2025-02-29', '2026-00-10'])(
    'refuses the impossible date %s',
    (value) => {
      const error = thrown(() => parseSelector(value))
      expect(error.code).toBe('USAGE')
      expect(error.message).toContain('is not a valid date')
    },
  )
})

describe('selectBackup', () => {
  const records = inventoryOf([
    ...complete('backup-2026-01-10T020000Z'),
    ...complete('backup-2026-01-11T235959Z'),
    ...complete('backup-2026-01-12T000000Z'),
    ...complete('backup-2026-01-13T020000Z'),
    object('database-backups/backup-2026-01-14T020000Z.tar.gz'),
  ])

  it('latest is the newest complete backup (an unfinished newer upload is skipped)', () => {
    expect(selectBackup(records, { kind: 'latest' }).id).toBe('backup-2026-01-13T020000Z')
  })

  it.each([
    ['2026-01-10', 'backup-2026-01-10T020000Z'],
    ['2026-01-11', 'backup-2026-01-11T235959Z'],
    ['2026-01-12', 'backup-2026-01-12T000000Z'],
    ['2026-01-13', 'backup-2026-01-13T020000Z'],
    ['2026-01-14', 'backup-2026-01-13T020000Z'],
    ['2027-06-01', 'backup-2026-01-13T020000Z'],
  ])('a date %s: the newest complete backup on or before the end of that UTC day', (date, id) => {
    expect(selectBackup(records, { kind: 'date', date }).id).toBe(id)
  })

  it('a date before the first backup names the earliest one', () => {
    const error = thrown(() => selectBackup(records, { kind: 'date', date: '2026-01-09' }))
    expect(error.code).toBe('BACKUP_NOT_FOUND')
    expect(error.message).toBe(
      'no complete backup on or before 2026-01-09; the earliest is backup-2026-01-10T020000Z',
    )
  })

  it('an empty store', () => {
    expect(thrown(() => selectBackup([], { kind: 'latest' })).code).toBe('BACKUP_NOT_FOUND')
    expect(thrown(() => selectBackup([], { kind: 'date', date: '2026-01-01' })).message).toBe(
      'the store holds no complete backup',
    )
  })

  it('an id: complete, incomplete, unknown', () => {
    expect(selectBackup(records, { kind: 'id', id: 'backup-2026-01-11T235959Z' }).id).toBe(
      'backup-2026-01-11T235959Z',
    )
    expect(
      thrown(() => selectBackup(records, { kind: 'id', id: 'backup-2026-01-14T020000Z' })).message,
    ).toContain('is incomplete')
    expect(
      thrown(() => selectBackup(records, { kind: 'id', id: 'backup-2020-01-01T000000Z' })).message,
    ).toContain('does not exist')
  })

  it('a key or URL selects its backup by id; a local file is not in the inventory', () => {
    expect(
      selectBackup(records, {
        kind: 'key',
        key: 's3://b/p/database-backups/backup-2026-01-10T020000Z.tar.gz',
      }).id,
    ).toBe('backup-2026-01-10T020000Z')
    expect(thrown(() => selectBackup(records, { kind: 'file', path: './x.tar.gz' })).code).toBe('USAGE')
  })
})
