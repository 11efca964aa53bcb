// Settings every command shares (--help, --json, --quiet) and where archives live:
// BACKUP_STORE and the AWS SDK's standard variables for S3 and S3-compatible stores.
import { COMMAND_NAMES, type CommandName, defineSettings } from './types.ts'

/** Commands that read or write the store. */
export const STORE_JOBS = [
  'backup',
  'restore',
  'list',
  'show',
  'verify',
  'clean',
  'monitor',
  'audit',
  'drill',
  'dr-test',
  'report',
  'doctor',
] as const satisfies readonly CommandName[]

/** Commands that show progress on long work. */
const PROGRESS_JOBS = [
  'backup',
  'restore',
  'verify',
  'clean',
  'monitor',
  'drill',
  'dr-test',
  'report',
  'demo',
] as const satisfies readonly CommandName[]

export const COMMON_SETTINGS = defineSettings({
  help: {
    flag: 'help',
    short: 'h',
    type: 'boolean',
    jobs: COMMAND_NAMES,
    help: 'this help',
    common: true,
  },
  version: {
    flag: 'version',
    short: 'V',
    type: 'boolean',
    jobs: COMMAND_NAMES,
    help: 'print the version of Lifeboat and Node.js',
    common: true,
  },
  json: {
    flag: 'json',
    type: 'boolean',
    jobs: COMMAND_NAMES,
    help: 'print one JSON summary line on stdout',
    common: true,
  },
  quiet: {
    flag: 'quiet',
    short: 'q',
    type: 'boolean',
    jobs: PROGRESS_JOBS,
    help: 'only warnings and errors on stderr',
    common: true,
  },
  progressInterval: {
    env: ['LIFEBOAT_PROGRESS_INTERVAL'],
    type: 'number',
    default: 10,
    min: 0.1,
    jobs: PROGRESS_JOBS,
    help: 'without a terminal (CI, pipes): seconds between the plain progress lines of each running phase',
  },
})

export const STORE_SETTINGS = defineSettings({
  store: {
    flag: 'store',
    env: ['BACKUP_STORE'],
    type: 'string',
    value: 'URL',
    jobs: STORE_JOBS,
    help: '`s3://bucket/prefix` or `file://path` (a path starting with `/` or `.` works too)',
  },
  awsRegion: {
    env: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
    type: 'string',
    default: 'us-east-1',
    jobs: STORE_JOBS,
    help: 'the S3 bucket region; credentials come from the AWS SDK chain (OIDC in GitHub Actions)',
  },
  awsEndpoint: {
    env: ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'],
    type: 'string',
    jobs: STORE_JOBS,
    help: 'endpoint of an S3-compatible store (MinIO, R2, Supabase Storage, s3rver)',
  },
  awsForcePathStyle: {
    env: ['AWS_S3_FORCE_PATH_STYLE'],
    type: 'boolean',
    defaultText: 'on when an endpoint is set',
    jobs: STORE_JOBS,
    help: 'path-style bucket URLs',
  },
  awsRequestChecksum: {
    env: ['AWS_REQUEST_CHECKSUM_CALCULATION'],
    type: 'string',
    default: 'WHEN_SUPPORTED',
    choices: ['WHEN_SUPPORTED', 'WHEN_REQUIRED'],
    jobs: STORE_JOBS,
    help: '`WHEN_REQUIRED` for S3-compatible servers that mishandle the SDK default checksums',
  },
  awsResponseChecksum: {
    env: ['AWS_RESPONSE_CHECKSUM_VALIDATION'],
    type: 'string',
    default: 'WHEN_SUPPORTED',
    choices: ['WHEN_SUPPORTED', 'WHEN_REQUIRED'],
    jobs: STORE_JOBS,
    help: '`WHEN_REQUIRED` for S3-compatible servers that mishandle the SDK default checksums',
  },
  awsAccessKeyId: {
    env: ['AWS_ACCESS_KEY_ID'],
    type: 'string',
    jobs: STORE_JOBS,
    help: 'explicit keys, for S3-compatible stores; on AWS prefer the credential chain',
  },
  awsSecretAccessKey: {
    env: ['AWS_SECRET_ACCESS_KEY'],
    type: 'string',
    secret: true,
    jobs: STORE_JOBS,
    help: 'the secret of AWS_ACCESS_KEY_ID',
  },
  awsSessionToken: {
    env: ['AWS_SESSION_TOKEN'],
    type: 'string',
    secret: true,
    jobs: STORE_JOBS,
    help: 'the session token of temporary keys',
  },
  storeTimeout: {
    env: ['LIFEBOAT_STORE_TIMEOUT'],
    type: 'integer',
    default: 60,
    min: 1,
    value: 'SECONDS',
    jobs: STORE_JOBS,
    help: 'S3: seconds a request may wait without a byte moving before it fails (connecting at most 10 s, a whole request up to its answer ten times this), so a silent store is STORE_UNREACHABLE',
  },
  recordStore: {
    flag: 'record-store',
    env: ['LIFEBOAT_RECORD_STORE'],
    type: 'string',
    value: 'URL',
    defaultText: 'BACKUP_STORE',
    jobs: ['drill', 'dr-test'],
    help: 'where the run writes its report, access review, audit event and status when they must not go to the store it restores from (a DR test from the read-only replica: the primary); same forms as BACKUP_STORE',
  },
  recordStoreRegion: {
    env: ['LIFEBOAT_RECORD_STORE_REGION'],
    type: 'string',
    defaultText: 'AWS_REGION',
    jobs: ['drill', 'dr-test'],
    help: "the record store's S3 region, when it is not the backup store's (AWS_REGION)",
  },
})
