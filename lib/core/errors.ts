// The one error catalogue: every failure the tool can report has a code, an exit
// code and a runbook anchor. Jobs print `LifeboatError`s once, at the edge. Pure.

export const ExitCode = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

interface ErrorKind {
  exit: ExitCode
  hint: string
}

/** Each code has a section `#<code lower-cased, _ as ->` in runbooks/troubleshooting.md. */
export const errorCatalogue = {
  USAGE: { exit: 2, hint: 'Run the command with --help.' },
  CONFIG_MISSING: { exit: 2, hint: 'Set the named environment variable or flag.' },
  CONFIG_INVALID: { exit: 2, hint: 'Fix the named setting; --help shows the accepted forms.' },
  DB_UNREACHABLE: { exit: 1, hint: 'Check host, port and network; `npm run backup:doctor` explains.' },
  DB_AUTH: { exit: 1, hint: 'Check the user and password in the connection URL.' },
  DB_NOT_FOUND: {
    exit: 1,
    hint: 'The server answered but has no database of that name: check the name after the host in the URL (or PGDATABASE).',
  },
  DB_POOLER_TRANSACTION: {
    exit: 2,
    hint: 'Use the direct connection or the session pooler (port 5432), not the transaction pooler (6543).',
  },
  DB_PERMISSION: {
    exit: 1,
    hint: 'Grant the role SELECT on every selected table and BYPASSRLS (or use the table owner).',
  },
  DB_QUERY: { exit: 1, hint: 'A database statement failed; the message names it.' },
  STORE_UNREACHABLE: { exit: 1, hint: 'Check BACKUP_STORE, the endpoint and the network.' },
  STORE_FORBIDDEN: { exit: 1, hint: 'Check the credentials and the role policy for the bucket prefix.' },
  STORE_IO: { exit: 1, hint: 'The store failed to read or write an object; retry, then check the store.' },
  STORE_MISSING: {
    exit: 1,
    hint: 'The bucket or folder BACKUP_STORE names does not exist: check the name and region, or the mount.',
  },
  STORE_KEY_EXISTS: {
    exit: 1,
    hint: 'A create-only write found the key taken; the store kept the existing object. Run the job again.',
  },
  SELECTION_EMPTY: {
    exit: 1,
    hint: 'No table matched the selection (-n/-t patterns are case-sensitive); nothing was written. Fix the patterns.',
  },
  TEMP_DISK_FULL: {
    exit: 1,
    hint: 'The temp folder ran out of space; point LIFEBOAT_TEMP_DIR (--temp-dir) at a larger disk.',
  },
  DEADLINE_EXCEEDED: {
    exit: 1,
    hint: 'The job ran past its deadline (LIFEBOAT_DEADLINE); it stopped and cleaned up. Find the slow phase, or raise the deadline.',
  },
  BACKUP_NOT_FOUND: { exit: 1, hint: 'Run `npm run backup:list` to see complete backups.' },
  ARCHIVE_CORRUPT: {
    exit: 1,
    hint: 'Do not restore this archive; choose an earlier backup (`npm run backup:list`).',
  },
  ARCHIVE_FORMAT: { exit: 1, hint: 'This archive was written by an incompatible Lifeboat version.' },
  DECRYPT_FAILED: {
    exit: 1,
    hint: 'Check BACKUP_AGE_IDENTITY: it must be the key matching the archive recipients.',
  },
  SCHEMA_MISMATCH: {
    exit: 1,
    hint: 'Create the schema first (`--create-schema` on an empty database) or migrate the target.',
  },
  TARGET_NOT_EMPTY: {
    exit: 1,
    hint: 'Restore into an empty database, or pass --truncate to replace the rows.',
  },
  TARGET_BUSY: {
    exit: 1,
    hint: 'Another restore holds this target; wait for it to finish, then run this one again.',
  },
  TARGET_PROTECTED: {
    exit: 2,
    hint: 'Pass --confirm <database name> to restore into this database (--confirm-storage <project ref> for Storage files).',
  },
  RESTORE_FAILED: {
    exit: 1,
    hint: 'The target was rolled back and is unchanged; the message names the table.',
  },
  VERIFY_FAILED: { exit: 1, hint: 'The named files do not match their checksums; choose another backup.' },
  SIGNATURE_MISSING: {
    exit: 1,
    hint: 'The backup carries no signature: restore a signed backup, or check this one by hand and pass --allow-unsigned (docs/signing.md).',
  },
  SIGNATURE_INVALID: {
    exit: 1,
    hint: 'The backup was changed after it was signed: do not restore it; choose another backup and find out who wrote to the bucket.',
  },
  SIGNATURE_UNTRUSTED: {
    exit: 1,
    hint: 'Signed by a key missing from BACKUP_SIGNING_PUBLIC_KEYS: add it if it is one of yours (key rotation), otherwise treat the backup as forged.',
  },
  SCHEMA_SQL_REFUSED: {
    exit: 1,
    hint: 'schema.sql holds a statement the schema step never runs; nothing was written. Do not restore this backup with --create-schema.',
  },
  METADATA_TOO_LARGE: {
    exit: 1,
    hint: 'A manifest, checksum list or signature is larger than any real backup writes: the archive is damaged or forged.',
  },
  MONITOR_FAILED: { exit: 1, hint: 'The newest backup is older than the RPO; check the backup workflow.' },
  DRILL_FAILED: { exit: 1, hint: 'The drill could not prove the backup restorable; see the report.' },
  API_UNREACHABLE: { exit: 1, hint: 'Check SUPABASE_URL and the network; `npm run backup:doctor` explains.' },
  API_AUTH: {
    exit: 1,
    hint: 'Use the service_role key (Project Settings → API) in SUPABASE_SERVICE_ROLE_KEY.',
  },
  API_REQUEST: {
    exit: 1,
    hint: 'The Supabase API refused a request; the message quotes its answer (docs/api-mode.md).',
  },
  STORAGE_UNREACHABLE: {
    exit: 1,
    hint: 'Check SUPABASE_STORAGE_S3_URL (TARGET_… for a restore) and the network (docs/storage.md).',
  },
  STORAGE_AUTH: {
    exit: 1,
    hint: 'Check the Storage S3 access key pair and region (Storage → S3 in the dashboard; docs/storage.md).',
  },
  STORAGE_IO: {
    exit: 1,
    hint: 'Supabase Storage failed a request; the message names the bucket and object. Retry, then check the project.',
  },
  PREFLIGHT_FAILED: {
    exit: 1,
    hint: 'Run `npm run backup:doctor` for the checklist and a fix for each failure.',
  },
  INTERRUPTED: {
    exit: 130,
    hint: 'The job was interrupted (Ctrl-C, SIGTERM or its deadline); it cleaned up after itself. Run it again.',
  },
  INTERNAL: { exit: 1, hint: 'An unexpected error; please report it with the log.' },
} as const satisfies Record<string, ErrorKind>

export type ErrorCode = keyof typeof errorCatalogue

export class LifeboatError extends Error {
  override readonly name = 'LifeboatError'
  readonly code: ErrorCode
  readonly details: readonly string[]

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: readonly string[] } = {},
  ) {
    super(message, { cause: options.cause })
    this.code = code
    this.details = options.details ?? []
  }

  get exitCode(): ExitCode {
    return errorCatalogue[this.code].exit
  }

  get hint(): string {
    return errorCatalogue[this.code].hint
  }

  get runbook(): string {
    return `runbooks/troubleshooting.md#${this.code.toLowerCase().replaceAll('_', '-')}`
  }
}

export function isLifeboatError(error: unknown): error is LifeboatError {
  return error instanceof LifeboatError
}

/** Anything thrown becomes a LifeboatError, so the edge prints one shape. */
export function toLifeboatError(error: unknown): LifeboatError {
  if (error instanceof LifeboatError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new LifeboatError('INTERNAL', message, { cause: error })
}
