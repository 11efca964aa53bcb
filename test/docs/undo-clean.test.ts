// runbooks/undo-clean.md is manual (the test S3 API keeps no versions), so its copies are
// checked here instead: it brings back every object clean deletes that a reader of the
// backup needs, under the keys the code uses, in the order the backup job writes them, and
// its shell runs (with `aws` stubbed) as written.
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { archiveKey, BACKUPS_PREFIX, sidecarKey } from '../../lib/archive/layout.ts'
import { sidecarSignatureKey } from '../../lib/trust/backup-signature.ts'
import { readMarkdownFile } from '../helpers/doc-blocks.ts'

const RUNBOOK = 'runbooks/undo-clean.md'
const blocks = readMarkdownFile(RUNBOOK).blocks.filter((b) => b.mode === 'manual')
const ID = 'backup-2027-01-01T020000Z'
/** What follows `<prefix>/database-backups/<id>` in a key. */
const suffixOf = (key: string) => key.slice(`${BACKUPS_PREFIX}${ID}`.length)

/** Runs a block in bash with `aws` replaced by a function that prints its arguments. */
function runWithStubbedAws(text: string): { code: number | null; calls: string[] } {
  const stub = 'aws() { echo "aws $*" >&2; }\n'
  const result = spawnSync('bash', ['-euc', stub + text], {
    env: { PATH: process.env.PATH ?? '', BUCKET: 'b', PREFIX: 'p', ID },
    encoding: 'utf8',
  })
  return { code: result.status, calls: result.stderr.split('\n').filter((l) => l.startsWith('aws ')) }
}

describe(RUNBOOK, () => {
  it('parses as shell, every block', () => {
    const broken = blocks
      .map((b) => ({ at: `${b.file}:${b.line}`, check: spawnSync('bash', ['-n'], { input: b.text }) }))
      .filter(({ check }) => check.status !== 0)
      .map(({ at, check }) => `${at}: ${check.stderr.toString()}`)
    expect(broken).toEqual([])
  })

  it('copies back the archive, then the signature, then the sidecar: the keys clean deletes', () => {
    const text = blocks.map((b) => b.text).join('\n')
    const copied = [
      ...text.matchAll(
        /^KEY="\$PREFIX\/database-backups\/\$ID([^"]*)"|--key "\$PREFIX\/database-backups\/\$ID([^"]*)"/gm,
      ),
    ].map((m) => m[1] ?? m[2])
    expect(copied).toEqual([
      suffixOf(archiveKey(ID, false)),
      suffixOf(sidecarSignatureKey(ID)),
      suffixOf(sidecarKey(ID)),
    ])
  })

  it('copies the signature back only when the backup had one', () => {
    const block = blocks.find((b) => b.text.includes('SIGNATURE_VERSION'))!
    const unsigned = runWithStubbedAws(block.text.replace(/^SIGNATURE_VERSION=.*$/m, "SIGNATURE_VERSION=''"))
    expect(unsigned).toEqual({ code: 0, calls: [] })
    const signed = runWithStubbedAws(block.text.replace(/^SIGNATURE_VERSION=.*$/m, 'SIGNATURE_VERSION=v42'))
    expect(signed.code).toBe(0)
    expect(signed.calls).toEqual([
      `aws s3api copy-object --bucket b --key p/${sidecarSignatureKey(ID)} --copy-source b/p/${sidecarSignatureKey(ID)}?versionId=v42`,
    ])
  })
})
