// The doctor's settings, read leniently: the doctor reports missing settings instead
// of stopping, so every problem shows up in its checklist.

import { SETTINGS } from '../settings/settings.ts'
import { readStorageSettings, type StorageEndpoint } from '../storage/settings.ts'
import { type AgeIdentitySource, readAgeIdentity, readAgeRecipients } from './age-config.ts'
import { configuredChannels, readAlertConfig } from './alert-config.ts'
import { readBackupTuning, readSelection } from './backup-config.ts'
import {
  type Env,
  type Flags,
  type HostFacts,
  NO_HOST_FACTS,
  readStoreConfig,
  SettingsReader,
  type StoreConfig,
} from './config.ts'
import { readSourceDatabase } from './database-config.ts'
import type { LifeboatError } from './errors.ts'
import { type ApiSettings, chooseSource, readApiSettings } from './rest-config.ts'
import { describeUrl, type Secret } from './secret.ts'
import type { Selection } from './selection.ts'

export type DoctorSource =
  | { kind: 'postgres'; setting: string; host: string; port: number; database: string; user: string }
  | { kind: 'rest'; url: string; host: string }
  | { kind: 'none' }

export interface DoctorSettings {
  source: DoctorSource
  /** Every configuration problem, as the jobs would report it. */
  problems: string[]
  store: { url: string; kind: 's3' | 'file' } | undefined
  recipients: string[]
  recipientProblems: string[]
  identitySet: boolean
  alertChannels: string[]
  alertProblems: string[]
  /** Supabase Storage endpoints configured: the backup's source, a restore's target. */
  storage: { role: 'source' | 'target'; setting: string; location: string }[]
}

export interface DoctorConfig {
  settings: DoctorSettings
  sourceUrl: Secret | undefined
  api: ApiSettings | undefined
  store: StoreConfig | undefined
  selection: Selection
  schemas: string[]
  identity: AgeIdentitySource | undefined
  authUsers: boolean
  /** The endpoints to probe, in the order of `settings.storage`. */
  storageEndpoints: StorageEndpoint[]
}

function problemsOf(reader: SettingsReader): string[] {
  try {
    reader.finish()
    return []
  } catch (error) {
    return (error as LifeboatError).details.length > 0
      ? [...(error as LifeboatError).details]
      : [(error as Error).message]
  }
}

export function readDoctorConfig(env: Env, flags: Flags, host: HostFacts = NO_HOST_FACTS): DoctorConfig {
  const problems: string[] = []
  let mode: 'postgres' | 'rest' = 'postgres'
  try {
    mode = chooseSource(env, flags)
  } catch (error) {
    problems.push((error as Error).message)
  }
  let source: DoctorSource = { kind: 'none' }
  let sourceUrl: Secret | undefined
  let api: ApiSettings | undefined
  const sourceReader = new SettingsReader(env, flags, host)
  if (mode === 'rest') {
    api = readApiSettings(sourceReader)
    if (api) source = { kind: 'rest', url: api.url, host: new URL(api.url).host }
  } else {
    const database = readSourceDatabase(sourceReader, false)
    if (database) {
      sourceUrl = database.url
      const { params } = database
      source = {
        kind: 'postgres',
        setting: database.setting,
        host: params.host,
        port: params.port,
        database: params.dbname,
        user: params.user,
      }
    }
  }
  // A missing source is its own check; only other problems are listed here.
  // (An unreadable database setting leaves no source but a problem.)
  if (mode === 'postgres' || source.kind !== 'none') problems.push(...problemsOf(sourceReader))

  // The backup's own settings, read as the backup reads them: a doctor that passes while
  // the backup stops on BACKUP_GZIP_LEVEL=12 would mislead.
  const tuningReader = new SettingsReader(env, flags)
  readBackupTuning(tuningReader)
  problems.push(...problemsOf(tuningReader))

  const storeReader = new SettingsReader(env, flags)
  const store = storeReader.given(SETTINGS.store) === undefined ? undefined : readStoreConfig(storeReader)
  problems.push(...problemsOf(storeReader))

  const selectionReader = new SettingsReader(env, flags)
  const selection = readSelection(selectionReader)
  const ageReader = new SettingsReader(env, flags)
  const recipients = readAgeRecipients(ageReader)
  const identity = readAgeIdentity(ageReader)
  const recipientProblems = problemsOf(ageReader)
  const storage = readStorageEndpoints(env, flags, problems)
  const alertReader = new SettingsReader(env, flags)
  const alerts = readAlertConfig(alertReader)
  const alertProblems = problemsOf(alertReader)
  return {
    settings: {
      source,
      problems,
      store: store ? { url: store.url, kind: store.s3 ? 's3' : 'file' } : undefined,
      recipients,
      recipientProblems,
      identitySet: identity !== undefined,
      alertChannels: configuredChannels(alerts),
      alertProblems,
      storage: storage.map(({ role, endpoint }) => ({
        role,
        setting: endpoint.setting,
        location: describeUrl(endpoint.url, { keepPath: true }),
      })),
    },
    sourceUrl,
    api,
    store,
    selection,
    schemas: selection.schemas.length > 0 ? selection.schemas.filter((s) => !/[*?]/.test(s)) : ['public'],
    identity,
    authUsers: new SettingsReader(env, flags).boolean(SETTINGS.authUsers),
    storageEndpoints: storage.map((s) => s.endpoint),
  }
}

/** SUPABASE_STORAGE_S3_* and TARGET_SUPABASE_STORAGE_S3_*, each when set; problems go to the list. */
function readStorageEndpoints(
  env: Env,
  flags: Flags,
  problems: string[],
): { role: 'source' | 'target'; endpoint: StorageEndpoint }[] {
  const found: { role: 'source' | 'target'; endpoint: StorageEndpoint }[] = []
  for (const role of ['source', 'target'] as const) {
    const reader = new SettingsReader(env, flags)
    const choice = readStorageSettings(reader, role)
    const trouble = problemsOf(reader)
    problems.push(...trouble)
    if (choice.enabled && trouble.length === 0) found.push({ role, endpoint: choice.settings.endpoint })
  }
  return found
}
