// Runs one storage phase in its own process and prints its figures as one JSON line, so
// a test can assert the process's peak RSS (the whole process, measured by the kernel).
// Usage: node --import tsx test/helpers/storage-bench.ts '<json>'
import { identityToRecipient } from 'age-encryption'
import { decryptStream } from '../../lib/adapters/crypto/age.ts'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { Secret } from '../../lib/core/secret.ts'
import { readSidecar } from '../../lib/inventory/read-inventory.ts'
import { openStorageClient } from '../../lib/storage/client.ts'
import { restoreStorage } from '../../lib/storage/restore.ts'
import { STORAGE_DEFAULTS, type StorageEndpoint } from '../../lib/storage/settings.ts'
import { verifyStorage } from '../../lib/storage/verify.ts'
import { backupWithSidecar } from './storage-sidecar.ts'

export interface BenchInput {
  phase: 'backup' | 'verify' | 'restore'
  /** Environment naming the backup store (BACKUP_STORE and the AWS_* settings). */
  storeEnv: Record<string, string>
  /** The Storage endpoint: the source for a backup, the target for a restore. */
  storage: string
  jobs: number
  /** The backup to verify or restore. */
  id?: string
  /** age identity text; the backup encrypts to its recipient. */
  identity?: string
}

export interface BenchOutput {
  id: string
  seconds: number
  peakRssMb: number
  result: unknown
}

async function main(input: BenchInput): Promise<BenchOutput> {
  const reader = new SettingsReader(input.storeEnv)
  const store = openStore(readStoreConfig(reader)!)
  reader.finish()
  const endpoint: StorageEndpoint = {
    url: input.storage,
    region: 'local',
    accessKeyId: 'S3RVER',
    secretAccessKey: new Secret('S3RVER'),
    setting: 'SUPABASE_STORAGE_S3',
  }
  const client = await openStorageClient(endpoint)
  const identity = input.identity ? new Secret(input.identity) : undefined
  const decrypt = identity ? (name: string) => decryptStream(identity, { name }) : undefined
  const began = performance.now()
  let id = input.id ?? ''
  let result: unknown
  if (input.phase === 'backup') {
    const recipients = input.identity ? [await identityToRecipient(input.identity)] : []
    const settings = {
      endpoint,
      selection: { buckets: [], excludeBuckets: [] },
      jobs: input.jobs,
      rereadDays: STORAGE_DEFAULTS.rereadDays,
      reread: false,
      lockTtlMinutes: STORAGE_DEFAULTS.lockTtlMinutes,
    }
    const run = await backupWithSidecar({ store, source: client, tempDir: '.tmp' }, { settings, recipients })
    id = run.id
    result = run.result
  } else {
    const sidecar = await readSidecar(store, id)
    result =
      input.phase === 'verify'
        ? await verifyStorage({ store, emit: () => {}, ...(decrypt ? { decrypt } : {}) }, sidecar, {
            mode: 'read',
            jobs: input.jobs,
          })
        : await restoreStorage(
            { store, target: client, emit: () => {}, ...(decrypt ? { decrypt } : {}) },
            sidecar,
            {
              selection: { buckets: [], excludeBuckets: [] },
              truncate: false,
              jobs: input.jobs,
            },
          )
  }
  return {
    id,
    seconds: Math.round(performance.now() - began) / 1000,
    // maxRSS is in kilobytes: the whole process's peak.
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    result,
  }
}

if (process.argv[2]) {
  main(JSON.parse(process.argv[2]) as BenchInput).then(
    (output) => process.stdout.write(`${JSON.stringify(output)}\n`),
    (error) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
      process.exit(1)
    },
  )
}
