// The doctor's settings, read leniently: the doctor reports missing settings instead
// of stopping, so every problem shows up in its checklist.
import { type AgeIdentitySource, readAgeIdentity, readAgeRecipients } from './age-config.ts'
import { configuredChannels, readAlertConfig } from './alert-config.ts'
import { readSelection } from './backup-config.ts'
import { type Env, type Flags, readStoreConfig, SettingsReader, type StoreConfig } from './config.ts'
import type { LifeboatError } from './errors.ts'
import { type ApiSettings, chooseSource, readApiSettings } from './rest-config.ts'
import { Secret } from './secret.ts'
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

export function readDoctorConfig(env: Env, flags: Flags): DoctorConfig {
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
  const sourceReader = new SettingsReader(env, flags)
  if (mode === 'rest') {
    api = readApiSettings(sourceReader)
    if (api) source = { kind: 'rest', url: api.url, host: new URL(api.url).host }
  } else {
    const setting = sourceReader.optional(undefined, 'DATABASE_URL') ? 'DATABASE_URL' : 'SUPABASE_DB_URL'
    const raw = sourceReader.optional(undefined, 'DATABASE_URL', 'SUPABASE_DB_URL')
    if (raw !== undefined) {
      try {
        const url = new URL(raw)
        if (!/^postgres(ql)?:$/.test(url.protocol)) throw new Error('not postgres')
        sourceUrl = new Secret(raw)
        source = {
          kind: 'postgres',
          setting,
          host: url.hostname.replace(/^\[|\]$/g, ''),
          port: Number(url.port || 5432),
          database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
          user: decodeURIComponent(url.username),
        }
      } catch {
        problems.push(`${setting} must be a postgresql:// URL`)
      }
    }
  }
  // A missing source is its own check; only other problems are listed here.
  if (source.kind !== 'none') problems.push(...problemsOf(sourceReader))

  const storeReader = new SettingsReader(env, flags)
  const store =
    storeReader.optional('store', 'BACKUP_STORE') === undefined ? undefined : readStoreConfig(storeReader)
  problems.push(...problemsOf(storeReader))

  const selectionReader = new SettingsReader(env, flags)
  const selection = readSelection(selectionReader)
  const ageReader = new SettingsReader(env, flags)
  const recipients = readAgeRecipients(ageReader)
  const identity = readAgeIdentity(ageReader)
  const recipientProblems = problemsOf(ageReader)
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
    },
    sourceUrl,
    api,
    store,
    selection,
    schemas: selection.schemas.length > 0 ? selection.schemas.filter((s) => !/[*?]/.test(s)) : ['public'],
    identity,
    authUsers:
      flags['auth-users'] === true || new SettingsReader(env, flags).boolean(undefined, 'BACKUP_AUTH_USERS'),
  }
}
