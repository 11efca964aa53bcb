// The contract between infra/ (Pulumi), the workflows and the jobs: stack output names,
// the GitHub variables and secrets that carry them, and the environments that scope them.
// Pure: constants only; infra/index.ts exports with these names and the tests check every workflow against them.

/** Stack outputs (`pulumi stack output <name>`). */
export const StackOutput = {
  bucketName: 'bucketName',
  region: 'region',
  backupStore: 'backupStore',
  writerRoleArn: 'writerRoleArn',
  cleanerRoleArn: 'cleanerRoleArn',
  readerRoleArn: 'readerRoleArn',
  operatorPolicyArn: 'operatorPolicyArn',
  oidcProviderArn: 'oidcProviderArn',
  workflowFiles: 'workflowFiles',
  /** `s3://replica-bucket/prefix`, or '' without replication. */
  replicaStore: 'replicaStore',
  replicaRegion: 'replicaRegion',
  /** JSON: every role that can reach the bucket, whom it trusts, what it may do (access review). */
  accessReview: 'accessReview',
  /** The GitHub secrets the secrets stack must set (names and scopes, never values). */
  githubSecrets: 'githubSecrets',
} as const
export type StackOutputName = (typeof StackOutput)[keyof typeof StackOutput]

/**
 * Repository variables (`vars.X` in a workflow) the Pulumi program sets. The names the jobs
 * read as environment variables are reused where one exists (DESIGN.md "Configuration").
 */
export const GitHubVariable = {
  region: 'AWS_REGION',
  bucket: 'LIFEBOAT_BUCKET',
  backupStore: 'BACKUP_STORE',
  retentionDays: 'RETENTION_DAYS',
  retentionMinKeep: 'RETENTION_MIN_KEEP',
  retentionDaily: 'RETENTION_DAILY',
  retentionWeekly: 'RETENTION_WEEKLY',
  retentionMonthly: 'RETENTION_MONTHLY',
  writerRoleArn: 'LIFEBOAT_WRITER_ROLE_ARN',
  cleanerRoleArn: 'LIFEBOAT_CLEANER_ROLE_ARN',
  readerRoleArn: 'LIFEBOAT_READER_ROLE_ARN',
  oncallEmail: 'ONCALL_EMAIL',
  pagerDutyEventsUrl: 'PAGERDUTY_EVENTS_URL',
  replicaStore: 'BACKUP_REPLICA_STORE',
  replicaRegion: 'BACKUP_REPLICA_REGION',
  /** Hours a backup may be missing from the replica before the monitor warns (lifeboat:replica.lagHours). */
  replicaLagHours: 'REPLICA_LAG_HOURS',
  /** The access review the DR test compares with the last one (StackOutput.accessReview). */
  accessReview: 'LIFEBOAT_ACCESS_REVIEW',
  /** The public keys backups must be signed by: verify, drill and DR test check them (docs/signing.md). */
  signingPublicKeys: 'BACKUP_SIGNING_PUBLIC_KEYS',
  /** The Storage backed up (docs/storage.md): its S3 endpoint and region, when it has files to keep. */
  storageS3Url: 'SUPABASE_STORAGE_S3_URL',
  storageS3Region: 'SUPABASE_STORAGE_S3_REGION',
  /** The scratch project's Storage drills and DR tests restore the files into (docs/drills.md). */
  stagingStorageS3Url: 'STAGING_SUPABASE_STORAGE_S3_URL',
  stagingStorageS3Region: 'STAGING_SUPABASE_STORAGE_S3_REGION',
} as const
export type GitHubVariableName = (typeof GitHubVariable)[keyof typeof GitHubVariable]

/** Which stack output each role/bucket variable carries. */
export const VariableForOutput = {
  [StackOutput.region]: GitHubVariable.region,
  [StackOutput.bucketName]: GitHubVariable.bucket,
  [StackOutput.backupStore]: GitHubVariable.backupStore,
  [StackOutput.writerRoleArn]: GitHubVariable.writerRoleArn,
  [StackOutput.cleanerRoleArn]: GitHubVariable.cleanerRoleArn,
  [StackOutput.readerRoleArn]: GitHubVariable.readerRoleArn,
  [StackOutput.replicaStore]: GitHubVariable.replicaStore,
  [StackOutput.replicaRegion]: GitHubVariable.replicaRegion,
  [StackOutput.accessReview]: GitHubVariable.accessReview,
} as const

/** Deployment environments: the OIDC subject claims and the secrets' scopes hang off these names. */
export const GitHubEnvironment = {
  /** The daily backup job (the writer role): reads the production database. */
  production: 'production',
  /** The clean job (the cleaner role): its own environment, so its OIDC subject is its own. */
  productionClean: 'production-clean',
  /** Verify and monitor after the daily backup (the reader role). */
  productionRead: 'production-read',
  /** Drills and DR tests: restores into scratch or staging databases, holds the age identity. */
  staging: 'staging',
  /** `pulumi up` from infra.yml. */
  infrastructure: 'infrastructure',
} as const
export type GitHubEnvironmentName = (typeof GitHubEnvironment)[keyof typeof GitHubEnvironment]

/** Actions secrets the program sets, and where: the repository or one environment. */
export const GitHubSecret = {
  databaseUrl: { name: 'DATABASE_URL', scope: GitHubEnvironment.production },
  ageRecipients: { name: 'BACKUP_AGE_RECIPIENTS', scope: GitHubEnvironment.production },
  /** The backup job's minisign secret key: only the backup job's environment holds it. */
  signingKey: { name: 'BACKUP_SIGNING_KEY', scope: GitHubEnvironment.production },
  /**
   * An empty database the DR test restores into as it is (a new Supabase project made for it);
   * unset, the test creates one on the workflow's PostgreSQL container.
   */
  drTestDatabaseUrl: { name: 'DR_TEST_DATABASE_URL', scope: GitHubEnvironment.staging },
  ageIdentity: { name: 'BACKUP_AGE_IDENTITY', scope: GitHubEnvironment.staging },
  /** The source Storage's S3 keys: the backup job alone reads the files. */
  storageS3AccessKeyId: { name: 'SUPABASE_STORAGE_S3_ACCESS_KEY_ID', scope: GitHubEnvironment.production },
  storageS3SecretAccessKey: {
    name: 'SUPABASE_STORAGE_S3_SECRET_ACCESS_KEY',
    scope: GitHubEnvironment.production,
  },
  /** The scratch Storage's S3 keys: drills and DR tests write the restored files there. */
  stagingStorageS3AccessKeyId: {
    name: 'STAGING_SUPABASE_STORAGE_S3_ACCESS_KEY_ID',
    scope: GitHubEnvironment.staging,
  },
  stagingStorageS3SecretAccessKey: {
    name: 'STAGING_SUPABASE_STORAGE_S3_SECRET_ACCESS_KEY',
    scope: GitHubEnvironment.staging,
  },
  slackWebhookUrl: { name: 'SLACK_WEBHOOK_URL', scope: 'repository' },
  pagerDutyRoutingKey: { name: 'PAGERDUTY_ROUTING_KEY', scope: 'repository' },
  smtpUrl: { name: 'SMTP_URL', scope: 'repository' },
  heartbeatUrl: { name: 'HEARTBEAT_URL', scope: 'repository' },
} as const satisfies Record<string, { name: string; scope: GitHubEnvironmentName | 'repository' }>
export type GitHubSecretKey = keyof typeof GitHubSecret

/**
 * Set by a person once, never by the program: the credentials `pulumi up` itself runs with
 * (docs/infrastructure.md "Bootstrap"). A program cannot mint the keys it is deployed with.
 */
export const BootstrapSecret = {
  pulumiAccessToken: 'PULUMI_ACCESS_TOKEN',
  /** Reads the infrastructure stack only (it holds no secret); pull requests preview with it. */
  pulumiPreviewToken: 'PULUMI_PREVIEW_TOKEN',
  pulumiGitHubToken: 'PULUMI_GITHUB_TOKEN',
} as const
export const BootstrapVariable = {
  deployRoleArn: 'LIFEBOAT_DEPLOY_ROLE_ARN',
  previewRoleArn: 'LIFEBOAT_PREVIEW_ROLE_ARN',
  pulumiStack: 'PULUMI_STACK',
} as const

/** The workflow files the program pushes to the repository as `RepositoryFile`s. */
export const WORKFLOWS_DIRECTORY = '.github/workflows'
