// The IAM statements for Storage files in the backup store (docs/storage.md): the backup
// writer creates blobs, manifests and lock objects (never replacing one); the cleaner's
// sweep lists them, reads the indexes it marks by and deletes what no backup references.
import { BLOBS_PREFIX, LOCKS_PREFIX, MANIFESTS_PREFIX } from '../lib/storage/layout.ts'
import type { PolicyStatement } from './iam-documents.ts'

/** Content blobs, per-backup manifests and indexes, locks. */
export const STORAGE_PREFIXES = [BLOBS_PREFIX, MANIFESTS_PREFIX, LOCKS_PREFIX] as const
/** The plaintext indexes (hashes and sizes, no names): a backup compares with the last, the sweep marks by them. */
const STORAGE_INDEXES = `${MANIFESTS_PREFIX}*.index.ndjson`

type ObjectArn = (relative: string) => string

/** What a backup adds to the writer: create-only puts under the storage prefixes, the indexes read. */
export function storageWriterStatements(arn: ObjectArn): PolicyStatement[] {
  const everything = STORAGE_PREFIXES.map((p) => arn(`${p}*`))
  return [
    {
      Sid: 'WriteStorageFiles',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
      Resource: everything,
    },
    { Sid: 'ReadStorageIndexes', Effect: 'Allow', Action: ['s3:GetObject'], Resource: arn(STORAGE_INDEXES) },
    createOnly('DenyStorageOverwrites', everything),
  ]
}

/** What the sweep adds to the cleaner; `list` builds a prefix-scoped ListBucket statement. */
export function storageSweepStatements(
  arn: ObjectArn,
  list: (sid: string, relative: string) => PolicyStatement,
): PolicyStatement[] {
  return [
    list('ListStorageBlobs', BLOBS_PREFIX),
    list('ListStorageManifests', MANIFESTS_PREFIX),
    list('ListStorageLocks', LOCKS_PREFIX),
    { Sid: 'ReadStorageIndexes', Effect: 'Allow', Action: ['s3:GetObject'], Resource: arn(STORAGE_INDEXES) },
    { Sid: 'WriteStorageLock', Effect: 'Allow', Action: ['s3:PutObject'], Resource: arn(`${LOCKS_PREFIX}*`) },
    {
      Sid: 'DeleteUnreferencedStorageFiles',
      Effect: 'Allow',
      Action: ['s3:DeleteObject'],
      Resource: STORAGE_PREFIXES.map((p) => arn(`${p}*`)),
    },
    createOnly('DenyStorageLockOverwrites', [arn(`${LOCKS_PREFIX}*`)]),
  ]
}

/** As iam-documents' create-only Deny: an object-creating write must carry `If-None-Match: *`. */
function createOnly(sid: string, resources: string[]): PolicyStatement {
  return {
    Sid: sid,
    Effect: 'Deny',
    Action: ['s3:PutObject'],
    Resource: resources,
    Condition: { Null: { 's3:if-none-match': 'true' }, Bool: { 's3:ObjectCreationOperation': 'true' } },
  }
}
