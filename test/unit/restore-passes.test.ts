// When the restore verifies the whole archive before loading, and when it loads a stored
// archive as it verifies it (one pass): lib/restore/phases.ts `verifyBeforeLoading`.
import { describe, expect, it } from 'vitest'
import type { LocalArchive } from '../../lib/archive/fetch.ts'
import type { Manifest } from '../../lib/archive/manifest.ts'
import { verifyBeforeLoading } from '../../lib/restore/phases.ts'

const SIGNED = 'a'.repeat(64)

function archive(expected: Partial<Manifest> | undefined, sha256: string | undefined): LocalArchive {
  return {
    where: 'the archive',
    path: '/tmp/x.tar.gz',
    id: 'backup-2026-11-25T020000Z',
    encrypted: false,
    expected: expected as Manifest | undefined,
    authenticity: undefined,
    bytes: 1,
    sha256,
    tempBytes: 0,
    downloadSeconds: 0,
    dispose: async () => {},
  }
}

const stored = { archive: { key: 'k', bytes: 1, sha256: SIGNED } }

describe('verifyBeforeLoading', () => {
  it('loads a stored archive in one pass when its bytes are the ones its signed sidecar pins', () => {
    expect(verifyBeforeLoading(archive(stored, SIGNED), { atomic: true })).toBe(false)
  })

  it('verifies a stored archive whole first when its bytes are not the signed ones (to name the file)', () => {
    expect(verifyBeforeLoading(archive(stored, 'b'.repeat(64)), { atomic: true })).toBe(true)
  })

  it('verifies a local archive whole first: its signed manifest comes at the end', () => {
    expect(verifyBeforeLoading(archive(undefined, undefined), { atomic: true })).toBe(true)
  })

  it('verifies whole first for a target whose writes others see before an undo (the API)', () => {
    expect(verifyBeforeLoading(archive(stored, SIGNED), { atomic: false })).toBe(true)
  })

  it('loads in one pass from a sidecar that pins no archive hash (each file is still checked)', () => {
    expect(verifyBeforeLoading(archive({}, SIGNED), { atomic: true })).toBe(false)
  })
})
