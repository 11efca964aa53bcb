// Where backups come from: the source database (a URL, or libpq's PG* variables and
// service file, as psql takes them), the Supabase API of API-only mode, which tables.
import { type CommandName, defineSettings } from './types.ts'

/** Commands that connect to PostgreSQL, as source or target: libpq's variables apply. */
export const POSTGRES_JOBS = [
  'backup',
  'doctor',
  'restore',
  'drill',
  'dr-test',
] as const satisfies readonly CommandName[]

const GUARDED = 'the production database: never a restore target without --confirm'

export const SOURCE_SETTINGS = defineSettings({
  databaseUrl: {
    env: ['DATABASE_URL', 'SUPABASE_DB_URL'],
    type: 'string',
    secret: true,
    jobs: POSTGRES_JOBS,
    help: 'the source: a postgresql:// URL or libpq key=value string (direct connection or session pooler, port 5432; the transaction pooler, 6543, is refused)',
    helpFor: { restore: GUARDED, drill: GUARDED, 'dr-test': GUARDED },
  },
  pgHost: {
    env: ['PGHOST'],
    type: 'string',
    defaultText: 'localhost',
    jobs: POSTGRES_JOBS,
    help: 'libpq: host name or Unix-socket folder, used when DATABASE_URL is unset or leaves it out',
  },
  pgPort: {
    env: ['PGPORT'],
    type: 'integer',
    default: 5432,
    min: 1,
    max: 65535,
    jobs: POSTGRES_JOBS,
    help: 'libpq: port',
  },
  pgUser: {
    env: ['PGUSER'],
    type: 'string',
    defaultText: 'the OS user',
    jobs: POSTGRES_JOBS,
    help: 'libpq: user name',
  },
  pgPassword: {
    env: ['PGPASSWORD'],
    type: 'string',
    secret: true,
    jobs: POSTGRES_JOBS,
    help: 'libpq: password (any characters, no URL encoding); else the password file',
  },
  pgDatabase: {
    env: ['PGDATABASE'],
    type: 'string',
    defaultText: 'the user name',
    jobs: POSTGRES_JOBS,
    help: 'libpq: database name',
  },
  pgSslMode: {
    env: ['PGSSLMODE'],
    type: 'string',
    default: 'prefer',
    choices: ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'],
    jobs: POSTGRES_JOBS,
    help: 'libpq: TLS mode, with libpq meanings (`require` encrypts without checking the certificate)',
  },
  pgSslRootCert: {
    env: ['PGSSLROOTCERT'],
    type: 'string',
    jobs: POSTGRES_JOBS,
    help: 'libpq: CA certificate file for verify-ca and verify-full',
  },
  pgService: {
    env: ['PGSERVICE'],
    type: 'string',
    jobs: POSTGRES_JOBS,
    help: 'libpq: a service name from the service file',
  },
  pgServiceFile: {
    env: ['PGSERVICEFILE'],
    type: 'string',
    defaultText: '~/.pg_service.conf, then $PGSYSCONFDIR/pg_service.conf',
    jobs: POSTGRES_JOBS,
    help: 'libpq: the connection service file',
  },
  pgSysConfDir: {
    env: ['PGSYSCONFDIR'],
    type: 'string',
    defaultText: '/etc/postgresql-common',
    jobs: POSTGRES_JOBS,
    help: 'libpq: the folder of the system-wide pg_service.conf',
  },
  pgPassFile: {
    env: ['PGPASSFILE'],
    type: 'string',
    defaultText: '~/.pgpass',
    jobs: POSTGRES_JOBS,
    help: 'libpq: the password file, read when no password is given',
  },
  supabaseUrl: {
    env: ['SUPABASE_URL'],
    type: 'string',
    jobs: ['backup', 'restore', 'doctor'],
    help: 'API-only mode: the project URL https://<ref>.supabase.co (docs/api-mode.md)',
  },
  supabaseServiceRoleKey: {
    env: ['SUPABASE_SERVICE_ROLE_KEY'],
    type: 'string',
    secret: true,
    jobs: ['backup', 'restore', 'doctor'],
    help: 'API-only mode: the service_role key',
  },
  source: {
    flag: 'source',
    type: 'string',
    choices: ['postgres', 'rest'],
    value: 'postgres|rest',
    defaultText: 'postgres when a database is configured',
    jobs: ['backup', 'doctor'],
    help: 'force the direct connection or the API',
  },
  schema: {
    flag: 'schema',
    short: 'n',
    type: 'list',
    value: 'PATTERN',
    jobs: ['backup', 'restore', 'doctor'],
    help: 'only these schemas (repeatable; * and ? as in pg_dump)',
  },
  excludeSchema: {
    flag: 'exclude-schema',
    short: 'N',
    type: 'list',
    value: 'PATTERN',
    jobs: ['backup', 'restore', 'doctor'],
    help: 'not these schemas (repeatable)',
  },
  table: {
    flag: 'table',
    short: 't',
    type: 'list',
    value: 'PATTERN',
    jobs: ['backup', 'restore', 'doctor'],
    help: 'only these tables, [schema.]table (repeatable)',
  },
  excludeTable: {
    flag: 'exclude-table',
    short: 'T',
    type: 'list',
    value: 'PATTERN',
    jobs: ['backup', 'restore', 'doctor'],
    help: 'not these tables (repeatable)',
  },
})
