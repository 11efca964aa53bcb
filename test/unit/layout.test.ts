import { describe, expect, it } from 'vitest'
import {
  archiveKey,
  backupIdFor,
  dataFileName,
  isBackupId,
  parseBackupKey,
  sidecarKey,
  timeOfBackupId,
} from '../../lib/archive/layout.ts'

describe('backup ids', () => {
  it('name the UTC second a backup started', () => {
    expect(backupIdFor(new Date('2026-11-25T02:00:07.900Z'))).toBe('backup-2026-11-25T020007Z')
  })

  it('round-trip to the time they name', () => {
    const id = backupIdFor(new Date('2024-03-25T23:59:59Z'))
    expect(timeOfBackupId(id)?.toISOString()).toBe('2024-03-25T23:59:59.000Z')
  })

  it('are recognised only in their exact form', () => {
    expect(isBackupId('backup-2026-11-25T020000Z')).toBe(true)
    expect(isBackupId('backup-2026-11-25')).toBe(false)
    expect(isBackupId('backup-2026-11-25T020000Z.tar.gz')).toBe(false)
  })
})

describe('store keys', () => {
  it('follow the bucket layout', () => {
    expect(archiveKey('backup-2026-11-25T020000Z', false)).toBe(
      'database-backups/backup-2026-11-25T020000Z.tar.gz',
    )
    expect(archiveKey('backup-2026-11-25T020000Z', true)).toBe(
      'database-backups/backup-2026-11-25T020000Z.tar.gz.age',
    )
    expect(sidecarKey('backup-2026-11-25T020000Z')).toBe(
      'database-backups/backup-2026-11-25T020000Z.manifest.json',
    )
  })

  it('parse back into id, kind and encryption', () => {
    expect(parseBackupKey('database-backups/backup-2026-11-25T020000Z.tar.gz.age')).toEqual({
      id: 'backup-2026-11-25T020000Z',
      kind: 'archive',
      encrypted: true,
    })
    expect(parseBackupKey('database-backups/backup-2026-11-25T020000Z.manifest.json')?.kind).toBe('sidecar')
    expect(parseBackupKey('database-backups/notes.txt')).toBeUndefined()
    expect(parseBackupKey('drills/backup-2026-11-25T020000Z.tar.gz')).toBeUndefined()
  })
})

describe('data file names', () => {
  it('keep ordinary and unicode names readable', () => {
    expect(dataFileName('public', 'users')).toBe('data/public.users.ndjson')
    expect(dataFileName('Odd Schema', 'Tabelle "ü" 温度')).toBe('data/Odd Schema.Tabelle "ü" 温度.ndjson')
  })

  it('encode characters that would change the path or make it ambiguous', () => {
    expect(dataFileName('a.b', 'c')).not.toBe(dataFileName('a', 'b.c'))
    expect(dataFileName('public', '../x/y')).toBe('data/public.%2E%2E%2Fx%2Fy.ndjson')
    expect(dataFileName('public', 'new\nline%')).toBe('data/public.new%0Aline%25.ndjson')
  })
})
