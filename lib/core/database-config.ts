// Database settings as psql takes them: a postgresql:// URL or a libpq key=value string,
// completed by the service file, the PG* variables and the password file; or, for the
// source alone, the PG* variables with no URL at all. Every job gets one complete URL.
import { ConninfoError } from '../adapters/postgres/conninfo.ts'
import {
  type ConnectionParams,
  connectionUrl,
  LIBPQ_ENV,
  LIBPQ_LOCATION_ENV,
  resolveConnection,
} from '../adapters/postgres/libpq.ts'
import { SETTINGS } from '../settings/settings.ts'
import type { SettingDef } from '../settings/types.ts'
import { describeSetting, type SettingsReader } from './config.ts'
import { registerSecret, Secret } from './secret.ts'

export interface DatabaseSetting {
  /** Complete and percent-encoded: host, port, user, password, dbname, sslmode. */
  url: Secret
  /** Where it came from, for messages: `DATABASE_URL`, `--target`, `PGHOST/PGDATABASE`. */
  setting: string
  params: ConnectionParams
}

const LIBPQ_FILES_ENV = ['PGSERVICEFILE', 'PGSYSCONFDIR']

/** The PG* variables libpq would read, from the reader's environment. */
function libpqEnv(reader: SettingsReader): Record<string, string | undefined> {
  const names = [...Object.values(LIBPQ_ENV), ...LIBPQ_FILES_ENV]
  return Object.fromEntries(names.map((name) => [name, reader.env(name)]))
}

/** The PG* variables that say where a server is, when set: `PGHOST/PGDATABASE`. */
export function libpqLocation(reader: SettingsReader): string | undefined {
  const set = LIBPQ_LOCATION_ENV.filter((name) => reader.env(name) !== undefined)
  return set.length > 0 ? set.join('/') : undefined
}

/**
 * The database a setting names, completed by libpq's rules. With `libpqAlone`, the PG*
 * variables are a source of their own when the setting is unset (as psql with no
 * argument); otherwise an unset setting is missing (when `required`) or undefined.
 */
export function readDatabase(
  reader: SettingsReader,
  def: SettingDef,
  options: { required: boolean; libpqAlone?: boolean },
): DatabaseSetting | undefined {
  const given = reader.given(def)
  const alone = !given && options.libpqAlone ? libpqLocation(reader) : undefined
  if (!given && !alone) {
    if (options.required)
      reader.missing(
        options.libpqAlone
          ? `${describeSetting(def)} (or PGHOST, PGDATABASE, PGSERVICE)`
          : describeSetting(def),
      )
    return undefined
  }
  const setting = given?.from ?? alone!
  try {
    const params = resolveConnection(given?.value, setting, libpqEnv(reader), reader.host)
    if (params.password !== undefined) registerSecret(params.password)
    return { url: new Secret(connectionUrl(params)), setting, params }
  } catch (error) {
    if (!(error instanceof ConninfoError)) throw error
    reader.invalid(error.message)
    return undefined
  }
}

/** The source a backup would read: DATABASE_URL, SUPABASE_DB_URL, else the PG* variables. */
export function readSourceDatabase(reader: SettingsReader, required: boolean): DatabaseSetting | undefined {
  return readDatabase(reader, SETTINGS.databaseUrl, { required, libpqAlone: true })
}

/**
 * Where production lives, as far as the environment says: the backup's source. A restore
 * or a drill refuses it as a target. A setting that cannot be read names nothing here
 * (the backup job reports it).
 */
export function readProductionDatabases(reader: SettingsReader): { setting: string; url: Secret }[] {
  const found: { setting: string; url: Secret }[] = []
  for (const name of SETTINGS.databaseUrl.env ?? []) {
    const raw = reader.env(name)
    if (!raw) continue
    try {
      const params = resolveConnection(raw, name, libpqEnv(reader), reader.host)
      found.push({ setting: name, url: new Secret(connectionUrl(params)) })
    } catch {
      // not readable: nothing to protect by it
    }
  }
  if (found.length > 0) return found
  const alone = libpqLocation(reader)
  if (!alone) return []
  try {
    const params = resolveConnection(undefined, alone, libpqEnv(reader), reader.host)
    return [{ setting: alone, url: new Secret(connectionUrl(params)) }]
  } catch {
    return []
  }
}
