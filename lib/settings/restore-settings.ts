// How a restore is made: the target, what may be replaced, the checks, the key of an
// encrypted archive. The drill and the DR test share some of them.
import { defineSettings } from './types.ts'

export const RESTORE_SETTINGS = defineSettings({
  target: {
    flag: 'target',
    env: ['TARGET_DATABASE_URL'],
    type: 'string',
    secret: true,
    value: 'URL',
    jobs: ['restore'],
    help: 'the database to restore into (a URL or libpq key=value string); never taken from the source settings',
  },
  via: {
    flag: 'via',
    type: 'string',
    choices: ['postgres', 'rest'],
    value: 'postgres|rest',
    defaultText: 'postgres when a target database is set',
    jobs: ['restore'],
    help: 'force the database connection or the API (no all-or-nothing, docs/api-mode.md)',
  },
  createSchema: {
    flag: 'create-schema',
    type: 'boolean',
    jobs: ['restore'],
    help: "apply the archive's schema.sql first (empty target)",
  },
  truncate: {
    flag: 'truncate',
    type: 'boolean',
    jobs: ['restore', 'drill'],
    help: 'replace the rows of tables that already hold some',
  },
  confirm: {
    flag: 'confirm',
    type: 'string',
    value: 'NAME',
    jobs: ['restore'],
    help: "required when the target looks like production (the backup's source, DATABASE_URL, or a database marked lifeboat.environment = 'production'): its database name, or project ref through the API",
  },
  verify: {
    flag: 'verify',
    type: 'boolean',
    negatable: true,
    default: true,
    jobs: ['restore'],
    help: 'skip the after-load re-export and comparison',
  },
  dryRun: {
    flag: 'dry-run',
    type: 'boolean',
    jobs: ['restore', 'clean'],
    help: 'print the plan and change nothing',
    helpFor: {
      restore:
        'run every check against the target and print the plan (what would be created, loaded, truncated, skipped); write nothing',
      clean: 'print the plan; delete nothing',
    },
  },
  identity: {
    flag: 'identity',
    env: ['BACKUP_AGE_IDENTITY'],
    type: 'string',
    secret: true,
    value: 'KEY|FILE',
    jobs: ['restore', 'verify', 'drill', 'dr-test', 'doctor'],
    help: 'the age private key for .age archives, or a path to a key file',
  },
})
