// When the restore verifies the whole archive before loading, and when it loads a stored
// archive as it downloads and verifies it (one pass): lib/restore/phases.ts `verifyBeforeLoading`.
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { LocalArchive } from '../../lib/archive/fetch.ts'
import type { Manifest } from '../../lib/archive/manifest.ts'
import { verifyBeforeLoading } from '../../lib/restore/phases.ts'

const SIGNED = 'a'.repeat(64)

function archive(expected: Partial<Manifest> | undefined): LocalArchive {
  return {
    where: 'the archive',
    id: 'backup-2026-11-25T020000Z',
    encrypted: false,
    expected: expected as Manifest | undefined,
    authenticity: undefined,
    bytes: 1,
    download: undefined,
    tempBytes: 0,
    open: () => Readable.from([]),
    dispose: async () => {},
  }
}

const stored = { archive: { key: 'k', bytes: 1, sha256: SIGNED } }

describe('verifyBeforeLoading', () => {
  it('loads a stored archive in one pass, as it downloads (its bytes are checked against the sidecar before the commit)', () => {
    expect(verifyBeforeLoading(archive(stored), { atomic: true })).toBe(false)
  })

  it('verifies a local archive whole first: its signed manifest comes at the end', () => {
    expect(verifyBeforeLoading(archive(undefined), { atomic: true })).toBe(true)
  })

  it('verifies whole first for a target whose writes others see before an undo (the API)', () => {
    expect(verifyBeforeLoading(archive(stored), { atomic: false })).toBe(true)
  })

  it('loads in one pass from a sidecar that pins no archive hash (each file is still checked)', () => {
    expect(verifyBeforeLoading(archive({}), { atomic: true })).toBe(false)
  })
})
