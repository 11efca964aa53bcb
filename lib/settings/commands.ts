// The commands of `lifeboat`: name, the npm script that is its alias, what it takes
// as a positional argument, and the prose of its --help (the options come from the
// settings table, lib/settings/settings.ts).
import type { CommandName } from './types.ts'

export interface CommandDef {
  name: CommandName
  /** `npm run <script>` runs the same command. */
  script: string
  summary: string
  /** At most one positional argument; `required` or optional (then in brackets). */
  positional?: { name: string; required: boolean }
  /** Paragraphs of --help between the usage line and the options. */
  description: string
  exitCodes: string
}

const STANDARD_EXIT = '0 ok, 1 the job failed, 2 bad usage or configuration.'

export const COMMANDS: readonly CommandDef[] = [
  {
    name: 'backup',
    script: 'backup:database',
    summary: 'back up the database into the store',
    description: `Backs up every table of the source database (one consistent snapshot) into an
archive (format v1) in the store, then writes its manifest sidecar.

Source: DATABASE_URL or SUPABASE_DB_URL, else libpq's PG* variables or PGSERVICE;
API-only: SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY when no database is set, or
--source rest (docs/api-mode.md). Encryption: BACKUP_AGE_RECIPIENTS. Row counts
and size are compared with the previous 7 sidecars; findings are warnings.
Preflight: settings, pooler mode, the store and the keys are checked first.`,
    exitCodes: '0 ok, 1 the backup failed, 2 bad usage or configuration.',
  },
  {
    name: 'restore',
    script: 'backup:restore',
    summary: 'verify a backup, then restore it into TARGET_DATABASE_URL',
    positional: { name: 'backup', required: true },
    description: `<backup> is a local archive (./backup-2026-11-25T020000Z.tar.gz), an s3:// URL or
store key, "latest", a date YYYY-MM-DD (the newest complete backup made on or
before the end of that day, UTC), or a backup id (backup-2026-11-25T020000Z).

The archive is verified completely (format, manifest, every checksum) and the
target checked before anything is written; the load runs in one transaction and
every restored table is re-exported and compared with the backup before COMMIT.
Any failure rolls back: the target stays exactly as it was. Through the API
instead: --via rest, or SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY when no target
database is set. A stored archive is downloaded once (its stored size); a local
archive is read in place and needs no store.`,
    exitCodes:
      '0 restored and verified, 1 the restore failed (target unchanged), 2 bad usage or configuration (a protected target without --confirm included).',
  },
  {
    name: 'list',
    script: 'backup:list',
    summary: 'complete backups, newest first, from the manifests alone',
    description: `Lists the complete backups in the store, newest first: id, time (UTC), archive
size, tables, rows, and whether the archive is encrypted. Reads only the manifest
sidecars; no archive is downloaded. Archives without a sidecar are unfinished
uploads: they are counted, never listed as restorable.`,
    exitCodes: '0 ok, 1 the store could not be read, 2 bad usage or configuration.',
  },
  {
    name: 'show',
    script: 'backup:show',
    summary: 'what is inside one backup, from its sidecar, without downloading it',
    positional: { name: 'backup', required: false },
    description: `[backup] is latest (the default), a backup id or a date YYYY-MM-DD. Reads only the
manifest sidecar: tables with rows, sizes and sha256, a schema summary (schemas,
columns, keys, sequences), structural warnings (tables without a primary key,
foreign keys to tables not in the backup, no schema.sql, not snapshot-consistent),
encryption and the source's server version.`,
    exitCodes: '0 ok, 1 no such backup or the store could not be read, 2 bad usage or configuration.',
  },
  {
    name: 'verify',
    script: 'backup:verify',
    summary: 'stream and check every checksum, no database needed',
    positional: { name: 'id|latest|all', required: false },
    description: `Streams each archive from the store and checks it without a database: format
version, manifest, SHA256SUMS, every file's sha256, size and row count, and the
stored object's size and sha256 against its manifest sidecar. Names every failing
file. Default: latest (the newest backup, skipping an upload still in progress).`,
    exitCodes:
      '0 every backup verified, 1 a backup failed (VERIFY_FAILED names the files; DECRYPT_FAILED when only the key is wrong), 2 bad usage or configuration.',
  },
  {
    name: 'clean',
    script: 'backup:clean',
    summary: 'delete backups past the retention, never the newest good ones',
    positional: { name: 'days', required: false },
    description: `Deletes backups older than [days] (RETENTION_DAYS), archive and sidecar together,
but never the newest RETENTION_MIN_KEEP good backups, whatever their age.
Archives without a sidecar (failed uploads) older than ORPHAN_GRACE_HOURS are
removed too. Optional tiers keep the newest backup of each of the last N days,
ISO weeks and months beyond the age limit. On a versioned bucket a delete leaves
a noncurrent version, which the bucket's lifecycle rule removes later
(docs/lifecycle.md).`,
    exitCodes: '0 ok, 1 a delete failed, 2 bad usage or configuration.',
  },
  {
    name: 'monitor',
    script: 'backup:monitor',
    summary: 'freshness (RPO) and row-count / size anomalies',
    description: `Reads only the store's listing and manifest sidecars (no archive is downloaded):
freshness: the newest complete backup must be younger than RPO_HOURS plus
RPO_GRACE_MINUTES, else the job fails (MONITOR_FAILED); anomalies, against the
median of the previous 7 backups: a table whose rows drop by more than
ANOMALY_ROW_DROP, a table that disappears, a total data size that moves by more
than ANOMALY_SIZE_CHANGE. Anomalies are warnings (exit 0).`,
    exitCodes: '0 fresh (with or without warnings), 1 stale or no backup, 2 bad usage or configuration.',
  },
  {
    name: 'audit',
    script: 'backup:audit',
    summary: 'recent audit records (who did what, when)',
    description: `Prints the audit trail's records (audit/ in the store), newest first: when, what
ran (backup, restore, verify, clean, monitor, drill, runbook), its outcome, the
backup id, and who ran it (the GitHub actor and run URL in Actions, the OS user
otherwise).`,
    exitCodes: '0 ok, 1 the store could not be read, 2 bad usage or configuration.',
  },
  {
    name: 'drill',
    script: 'backup:drill',
    summary: 'restore a random recent backup into staging, prove it, measure the RTO',
    description: `Picks a random complete backup of the last DRILL_WINDOW_DAYS days, restores it
(verify the archive, load in one transaction, re-export and compare every table),
then checks foreign keys and sequences, measures every phase against the RTO
target, writes the report to drills/<id>.json in the store and prints it as
Markdown (also to $GITHUB_STEP_SUMMARY). Production is never a target.`,
    exitCodes:
      '0 the drill passed (RTO exceeded is a warning), 1 it failed (the report names the failing tables), 2 bad usage or configuration, or a production target.',
  },
  {
    name: 'dr-test',
    script: 'dr:test',
    summary: 'quarterly disaster-recovery test from nothing but the bucket',
    description: `From nothing but the store and the credentials: the newest complete backup is
restored into a new empty database (schema.sql, then the data, verified by
re-export), foreign keys and sequences are checked, then the smoke checks run
(statements separated by ";", each returning one boolean, read-only, rolled
back). Reports the RPO and RTO achieved, stores the report in drills/<id>.json
and alerts like a drill.`,
    exitCodes:
      '0 passed (RPO or RTO missed are warnings), 1 the restore or a check failed, 2 bad usage or configuration, or a production target.',
  },
  {
    name: 'report',
    script: 'backup:report',
    summary: 'history of backups, failures and drills, the store footprint and its cost',
    description: `Reads the store: every complete backup's manifest (size, rows, duration), the
failed runs in the audit trail, every drill and DR-test report under drills/, and
the store's footprint (current and noncurrent bytes and objects) with an
estimated monthly cost. Prints the history as Markdown tables (also to
$GITHUB_STEP_SUMMARY) and writes a chart of it as an SVG image.`,
    exitCodes: '0 ok, 1 the store could not be read, 2 bad usage or configuration.',
  },
  {
    name: 'doctor',
    script: 'backup:doctor',
    summary: 'diagnose the source, store, keys and alert channels',
    description: `Checks, for the configured source and store, what would make a backup fail, and
explains each problem with a fix: source settings, pooler mode, DNS and IPv4/IPv6
reachability, login, pg_dump against the server version, SELECT on every selected
table, row-level security, timeouts (in API-only mode: the API answers the key);
the store (list, write, read back and delete a probe object); the keys; the alert
channels. The backup job runs the cheap part of these checks first (preflight).`,
    exitCodes: '0 nothing would stop a backup (warnings allowed), 1 a check failed, 2 bad usage.',
  },
  {
    name: 'demo',
    script: 'demo',
    summary: 'the whole round trip on a throwaway database',
    description: `Starts a throwaway PostgreSQL 15, fills it with sample data, backs it up into a
local folder, verifies the archive, restores it into a second database and proves
every table equal. Nothing outside this folder is touched; the PostgreSQL is
removed at the end.`,
    exitCodes: STANDARD_EXIT,
  },
  {
    name: 'alert-test',
    script: 'alert:test',
    summary: 'send a marked test message to every configured alert channel',
    description: `Sends a test message, marked as a test, to every configured alert channel: Slack,
PagerDuty (triggers and at once resolves an info alert with its own key
lifeboat/alert-test/<environment>), e-mail, and the heartbeat (the test ping
counts as a check-in). See docs/alerts.md.`,
    exitCodes:
      '0 every configured channel worked, 1 at least one failed, 2 no channel configured or a setting is invalid.',
  },
]

/** A command by its name or its npm script name (`backup:database`); undefined when unknown. */
export function findCommand(name: string): CommandDef | undefined {
  return COMMANDS.find((c) => c.name === name || c.script === name)
}

export function commandDef(name: CommandName): CommandDef {
  return COMMANDS.find((c) => c.name === name)!
}
