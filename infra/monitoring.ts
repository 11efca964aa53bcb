// Who did what to the bucket, and an alarm when its guards change: a CloudTrail trail (the
// account's management events, and data events on the backup bucket's objects) into its own
// locked-down log bucket, and an EventBridge rule that mails the on-call people (SNS) whenever
// the bucket policy, lifecycle, Object Lock, versioning, replication, encryption, public access
// block or logging of a Lifeboat bucket is changed or removed.
import * as aws from '@pulumi/aws'
import * as pulumi from '@pulumi/pulumi'
import { BackupBucket, GUARD } from './bucket.ts'
import type { PolicyDocument } from './iam-documents.ts'
import type { MonitoringSettings } from './settings.ts'

/** The CloudTrail event names that change a guard of the bucket (EventBridge pattern). */
export const GUARD_CHANGE_EVENTS = [
  'PutBucketPolicy',
  'DeleteBucketPolicy',
  'PutBucketLifecycle',
  'PutBucketLifecycleConfiguration',
  'DeleteBucketLifecycle',
  'PutObjectLockConfiguration',
  'PutBucketVersioning',
  'PutBucketReplication',
  'DeleteBucketReplication',
  'PutBucketEncryption',
  'DeleteBucketEncryption',
  'PutBucketPublicAccessBlock',
  'DeleteBucketPublicAccessBlock',
  'PutBucketOwnershipControls',
  'PutBucketLogging',
  'DeleteBucket',
] as const

export interface BucketMonitoringArgs {
  namePrefix: string
  logBucketName: string
  bucket: aws.s3.Bucket
  settings: MonitoringSettings
  tags: Record<string, string>
}

export class BucketMonitoring extends pulumi.ComponentResource {
  readonly logs: BackupBucket
  readonly trail: aws.cloudtrail.Trail
  readonly topic: aws.sns.Topic
  readonly rule: aws.cloudwatch.EventRule

  constructor(name: string, args: BucketMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lifeboat:monitoring:BucketMonitoring', name, {}, opts)
    this.logs = this.#logBucket(name, args)
    this.trail = this.#trail(name, args)
    this.topic = this.#alarmTopic(name, args)
    this.rule = new aws.cloudwatch.EventRule(
      `${name}-guard-changes`,
      {
        name: `${args.namePrefix}-guard-changes`,
        description: 'A Lifeboat bucket policy, lifecycle, Object Lock or versioning changed',
        eventPattern: args.bucket.bucket.apply((bucket) => JSON.stringify(guardChangePattern([bucket]))),
        tags: args.tags,
      },
      { parent: this },
    )
    new aws.sns.TopicPolicy(
      `${name}-alarm-policy`,
      {
        arn: this.topic.arn,
        policy: pulumi
          .all([this.topic.arn, this.rule.arn])
          .apply(([topic, rule]) => JSON.stringify(eventBridgePublishPolicy(topic, rule))),
      },
      { parent: this },
    )
    new aws.cloudwatch.EventTarget(
      `${name}-guard-changes-target`,
      { rule: this.rule.name, arn: this.topic.arn },
      { parent: this },
    )
    this.registerOutputs({ trail: this.trail.arn, topic: this.topic.arn })
  }

  /** The trail's own bucket: versioned, private, protected; logs expire after the retention. */
  #logBucket(name: string, args: BucketMonitoringArgs): BackupBucket {
    return new BackupBucket(
      `${name}-logs`,
      {
        bucketName: args.logBucketName,
        prefix: '',
        noncurrentVersionDays: 30,
        backstopExpirationDays: 0,
        objectLock: { mode: 'off', days: 0 },
        tags: args.tags,
        lifecycleRules: [
          {
            id: 'expire-trail-logs',
            status: 'Enabled',
            filter: {},
            expiration: { days: args.settings.logRetentionDays },
            noncurrentVersionExpiration: { noncurrentDays: 30 },
          },
        ],
      },
      { parent: this },
    )
  }

  #trail(name: string, args: BucketMonitoringArgs): aws.cloudtrail.Trail {
    const parent = { parent: this }
    const trailName = `${args.namePrefix}-trail`
    const account = aws.getCallerIdentityOutput({}, parent).accountId
    const region = aws.getRegionOutput({}, parent).name
    const trailArn = pulumi.interpolate`arn:aws:cloudtrail:${region}:${account}:trail/${trailName}`
    const logPolicy = this.logs.attachPolicy([trailArn, account], (arn, [trail, accountId]) =>
      trailBucketPolicy(arn, trail!, accountId!),
    )
    return new aws.cloudtrail.Trail(
      `${name}-trail`,
      {
        name: trailName,
        s3BucketName: this.logs.bucket.bucket,
        includeGlobalServiceEvents: true,
        isMultiRegionTrail: true,
        enableLogFileValidation: true,
        advancedEventSelectors: pulumi
          .output(args.bucket.arn)
          .apply((arn) => eventSelectors(arn, args.settings)),
        tags: args.tags,
      },
      { ...parent, ...GUARD, dependsOn: [logPolicy] },
    )
  }

  /** The SNS topic the guard-change rule publishes to (its policy names the rule), mailed to every alarm address. */
  #alarmTopic(name: string, args: BucketMonitoringArgs): aws.sns.Topic {
    const parent = { parent: this }
    const topic = new aws.sns.Topic(
      `${name}-alarm`,
      { name: `${args.namePrefix}-guard-changes`, tags: args.tags },
      parent,
    )
    args.settings.alarmEmails.forEach((email, index) => {
      new aws.sns.TopicSubscription(
        `${name}-alarm-email-${index}`,
        { topic: topic.arn, protocol: 'email', endpoint: email },
        parent,
      )
    })
    return topic
  }
}

/**
 * EventBridge may publish to the alarm topic for this rule only: without the source condition
 * any rule in any account could post to the on-call people's inbox (a forged all-clear, or noise).
 */
export function eventBridgePublishPolicy(topicArn: string, ruleArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'EventBridgePublishes',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['sns:Publish'],
        Resource: topicArn,
        Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
      },
    ],
  }
}

/** The EventBridge pattern: a guard-changing S3 API call on one of these buckets. */
export function guardChangePattern(buckets: string[]) {
  return {
    source: ['aws.s3'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['s3.amazonaws.com'],
      eventName: [...GUARD_CHANGE_EVENTS],
      requestParameters: { bucketName: buckets },
    },
  }
}

/** Management events (the guard changes) and the bucket's object-level data events. */
export function eventSelectors(bucketArn: string, settings: MonitoringSettings) {
  const data = {
    name: 'Lifeboat bucket objects',
    fieldSelectors: [
      { field: 'eventCategory', equals: ['Data'] },
      { field: 'resources.type', equals: ['AWS::S3::Object'] },
      { field: 'resources.ARN', startsWiths: [`${bucketArn}/`] },
      ...(settings.dataEvents === 'write' ? [{ field: 'readOnly', equals: ['false'] }] : []),
    ],
  }
  return [
    { name: 'Management events', fieldSelectors: [{ field: 'eventCategory', equals: ['Management'] }] },
    data,
  ]
}

/** CloudTrail may write this trail's logs, and nothing else may; TLS only. */
export function trailBucketPolicy(bucketArn: string, trailArn: string, accountId: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:*'],
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      {
        Sid: 'CloudTrailAclCheck',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: ['s3:GetBucketAcl'],
        Resource: bucketArn,
        Condition: { StringEquals: { 'aws:SourceArn': trailArn } },
      },
      {
        Sid: 'CloudTrailWrite',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: ['s3:PutObject'],
        Resource: `${bucketArn}/AWSLogs/${accountId}/*`,
        Condition: { StringEquals: { 'aws:SourceArn': trailArn } },
      },
    ],
  }
}
