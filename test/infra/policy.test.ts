// The policy checks (infra/policy.ts) pass on the program as written and fail on variants
// built by tampering with it (Pulumi transformations): versioning, encryption, public access
// block, TLS deny, MFA deny removed, a writer that can delete, and the other guarantees.
import type * as pulumi from '@pulumi/pulumi'
import { describe, expect, it } from 'vitest'
import type { PolicyDocument } from '../../infra/iam-documents.ts'
import { type BuildOptions, buildStack, editPolicy, replicaWithKey, tamper } from './harness.ts'
import { checkPolicies, isAllowed, matches, type PolicyRule, ResourceType } from './policy.ts'

type Statement = Record<string, unknown>

async function violationsOf(options: BuildOptions = {}): Promise<PolicyRule[]> {
  const stack = await buildStack(options)
  return [...new Set(checkPolicies(stack.resources, stack.expectations).map((v) => v.rule))]
}

const withTampering = (...transformations: pulumi.ResourceTransformation[]) =>
  violationsOf({ transformations })
const withoutStatement = (sid: string) => (doc: { Statement: Statement[] }) => ({
  ...doc,
  Statement: doc.Statement.filter((s) => s.Sid !== sid),
})

describe('the program as written', () => {
  it('keeps every guarantee', async () => {
    const stack = await buildStack()
    expect(checkPolicies(stack.resources, stack.expectations)).toEqual([])
  })

  it('keeps them with KMS, an empty prefix, no Object Lock and an existing OIDC provider too', async () => {
    const stack = await buildStack({
      overrides: {
        'lifeboat:kmsKeyArn':
          'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        // A KMS-encrypted primary needs a key for the replica (infra/settings-parts.ts).
        'lifeboat:replica': replicaWithKey(),
        'lifeboat:prefix': '',
        'lifeboat:objectLock': { mode: 'off' },
        'lifeboat:existingOidcProviderArn':
          'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
      },
    })
    expect(checkPolicies(stack.resources, stack.expectations)).toEqual([])
  })
})

describe('each check fails when its guarantee is removed', () => {
  it('versioning suspended', async () => {
    const rules = await withTampering(
      tamper(ResourceType.versioning, /./, (p) => ({
        ...p,
        versioningConfiguration: { status: 'Suspended' },
      })),
    )
    expect(rules).toEqual(['versioning'])
  })

  it('versioning applied to another bucket (as good as removed)', async () => {
    const rules = await withTampering(
      tamper(ResourceType.versioning, /./, (p) => ({ ...p, bucket: 'some-other-bucket' })),
    )
    expect(rules).toEqual(['versioning'])
  })

  it('default encryption removed', async () => {
    const rules = await withTampering(tamper(ResourceType.encryption, /./, (p) => ({ ...p, rules: [{}] })))
    expect(rules).toEqual(['encryption'])
  })

  it.each(['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'])(
    'public access block without %s',
    async (flag) => {
      const rules = await withTampering(
        tamper(ResourceType.publicAccessBlock, /./, (p) => ({ ...p, [flag]: false })),
      )
      expect(rules).toEqual(['public-access-block'])
    },
  )

  it('ACLs back on (object writer ownership)', async () => {
    const rules = await withTampering(
      tamper(ResourceType.ownership, /./, (p) => ({ ...p, rule: { objectOwnership: 'ObjectWriter' } })),
    )
    expect(rules).toEqual(['ownership'])
  })

  it('the TLS deny removed from the bucket policy', async () => {
    const rules = await withTampering(
      tamper(ResourceType.bucketPolicy, /./, (p) => ({
        ...p,
        policy: editPolicy(p.policy, withoutStatement('DenyInsecureTransport')),
      })),
    )
    expect(rules).toEqual(['tls-deny'])
  })

  it('the MFA deny removed from the bucket policy', async () => {
    const rules = await withTampering(
      tamper(ResourceType.bucketPolicy, /./, (p) => ({
        ...p,
        policy: editPolicy(p.policy, withoutStatement('DenyObjectReadDeleteWithoutMfa')),
      })),
    )
    expect(rules).toEqual(['mfa-deny'])
  })

  it('the MFA deny hollowed out by exempting everyone', async () => {
    const rules = await withTampering(
      tamper(ResourceType.bucketPolicy, /./, (p) => ({
        ...p,
        policy: editPolicy(p.policy, (doc) => ({
          ...doc,
          Statement: doc.Statement.map((s) =>
            s.Sid === 'DenyObjectReadDeleteWithoutMfa'
              ? {
                  ...s,
                  Condition: {
                    ...(s.Condition as object),
                    ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::*'] },
                  },
                }
              : s,
          ),
        })),
      })),
    )
    expect(rules).toEqual(['mfa-deny'])
  })

  it('the whole bucket policy removed (attached to another bucket)', async () => {
    const rules = await withTampering(
      tamper(ResourceType.bucketPolicy, /./, (p) => ({ ...p, bucket: 'elsewhere' })),
    )
    expect(rules.sort()).toEqual(['mfa-deny', 'tls-deny'])
  })

  it('the writer can delete: Allow s3:* and the explicit Deny gone', async () => {
    const rules = await withTampering(
      tamper(ResourceType.rolePolicy, 'access-writer-policy', (p) => ({
        ...p,
        policy: editPolicy(p.policy, (doc) => ({
          ...doc,
          Statement: [
            ...doc.Statement.filter((s) => s.Sid !== 'DenyAllDeletes' && s.Sid !== 'DenyBucketTampering'),
            { Sid: 'Everything', Effect: 'Allow', Action: ['s3:*'], Resource: '*' },
          ],
        })),
      })),
    )
    expect(rules).toEqual(['writer-no-delete'])
  })

  it('the writer loses its explicit Deny of deletes', async () => {
    const rules = await withTampering(
      tamper(ResourceType.rolePolicy, 'access-writer-policy', (p) => ({
        ...p,
        policy: editPolicy(p.policy, withoutStatement('DenyAllDeletes')),
      })),
    )
    expect(rules).toEqual(['writer-no-delete'])
  })

  it('the writer gains s3:Delete* but keeps its explicit Deny: still cannot delete (IAM: Deny wins)', async () => {
    const rules = await withTampering(
      tamper(ResourceType.rolePolicy, 'access-writer-policy', (p) => ({
        ...p,
        policy: editPolicy(p.policy, (doc) => ({
          ...doc,
          Statement: [
            ...doc.Statement,
            { Sid: 'Delete', Effect: 'Allow', Action: ['s3:Delete*'], Resource: '*' },
          ],
        })),
      })),
    )
    expect(rules).toEqual([])
  })

  it('the reader can delete', async () => {
    const rules = await withTampering(
      tamper(ResourceType.rolePolicy, 'access-reader-policy', (p) => ({
        ...p,
        policy: editPolicy(p.policy, (doc) => ({
          ...doc,
          Statement: [
            ...doc.Statement.filter((s) => s.Sid !== 'DenyAllDeletes'),
            { Sid: 'Delete', Effect: 'Allow', Action: ['s3:DeleteObject'], Resource: '*' },
          ],
        })),
      })),
    )
    expect(rules).toEqual(['reader-no-delete'])
  })

  it('the cleaner can delete outside database-backups/', async () => {
    const rules = await withTampering(
      tamper(ResourceType.rolePolicy, 'access-cleaner-policy', (p) => ({
        ...p,
        policy: editPolicy(p.policy, (doc) => ({
          ...doc,
          Statement: doc.Statement.filter((s) => s.Sid !== 'DenyDeletesOutsideBackups').map((s) =>
            s.Sid === 'DeleteExpiredBackups' ? { ...s, Resource: 'arn:aws:s3:::acme-lifeboat-backups/*' } : s,
          ),
        })),
      })),
    )
    expect(rules).toEqual(['cleaner-scope'])
  })

  it('a role trusted from any branch of the repository', async () => {
    const rules = await withTampering(
      tamper(ResourceType.role, 'access-cleaner', (p) => ({
        ...p,
        assumeRolePolicy: editPolicy(p.assumeRolePolicy, (doc) => ({
          ...doc,
          Statement: doc.Statement.map((s) => ({
            ...s,
            Condition: {
              StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
              StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:acme/lifeboat:*' },
            },
          })),
        })),
      })),
    )
    expect(rules).toEqual(['trust-scoped'])
  })

  it('a role trusted from another repository', async () => {
    const rules = await withTampering(
      tamper(ResourceType.role, 'access-reader', (p) => ({
        ...p,
        assumeRolePolicy: editPolicy(p.assumeRolePolicy, (doc) => ({
          ...doc,
          Statement: doc.Statement.map((s) => ({
            ...s,
            Condition: {
              StringEquals: {
                'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                'token.actions.githubusercontent.com:sub': ['repo:someone/else:environment:production'],
              },
            },
          })),
        })),
      })),
    )
    expect(rules).toEqual(['trust-scoped'])
  })

  it('the operator policy allows something without MFA', async () => {
    const rules = await withTampering(
      tamper(ResourceType.policy, /operator/, (p) => ({
        ...p,
        policy: editPolicy(p.policy, (doc) => ({
          ...doc,
          Statement: [
            ...doc.Statement,
            { Sid: 'List', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: '*' },
          ],
        })),
      })),
    )
    expect(rules).toEqual(['operator-mfa'])
  })

  it('the bucket loses protect', async () => {
    const rules = await withTampering((args) =>
      args.type === ResourceType.bucket
        ? { props: args.props, opts: { ...args.opts, protect: false } }
        : undefined,
    )
    expect(rules).toEqual(['bucket-protected'])
  })

  it.each([
    ResourceType.versioning,
    ResourceType.bucketPolicy,
    ResourceType.lifecycle,
    ResourceType.publicAccessBlock,
  ])('a guard resource a destroy could remove (%s without protect and retainOnDelete)', async (type) => {
    const rules = await withTampering((args) =>
      args.type === type
        ? { props: args.props, opts: { ...args.opts, protect: false, retainOnDelete: false } }
        : undefined,
    )
    expect(rules).toEqual(['guards-retained'])
  })

  it('lifecycle without noncurrent expiry or multipart abort', async () => {
    const rules = await withTampering(
      tamper(ResourceType.lifecycle, /./, (p) => ({
        ...p,
        rules: [
          { id: 'nothing', status: 'Enabled', filter: {}, expiration: { expiredObjectDeleteMarker: true } },
        ],
      })),
    )
    expect(rules).toEqual(['lifecycle'])
  })

  it('lifecycle expiring current backups inside the clean job’s window', async () => {
    const rules = await withTampering(
      tamper(ResourceType.lifecycle, /./, (p) => ({
        ...p,
        rules: [
          ...(p.rules as object[]),
          { id: 'too-early', status: 'Enabled', filter: { prefix: 'production/' }, expiration: { days: 7 } },
        ],
      })),
    )
    expect(rules).toEqual(['lifecycle'])
  })
})

describe('policy evaluation helpers', () => {
  it('match IAM wildcards', () => {
    expect(matches('s3:Delete*', 's3:DeleteObjectVersion')).toBe(true)
    expect(matches('s3:*', 'S3:GetObject')).toBe(true)
    expect(matches('s3:Get?bject', 's3:GetObject')).toBe(true)
    expect(matches('arn:aws:s3:::b/p/*', 'arn:aws:s3:::b/q/x', true)).toBe(false)
    expect(matches('arn:aws:s3:::b/p.x', 'arn:aws:s3:::b/pyx', true)).toBe(false)
  })

  it('let an unconditional Deny (also by NotResource) win over an Allow', () => {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'a', Effect: 'Allow', Action: ['s3:DeleteObject'], Resource: 'arn:aws:s3:::b/*' },
        { Sid: 'd', Effect: 'Deny', Action: ['s3:DeleteObject'], NotResource: 'arn:aws:s3:::b/keep/*' },
      ],
    }
    expect(isAllowed(doc, 's3:DeleteObject', 'arn:aws:s3:::b/keep/x')).toBe(true)
    expect(isAllowed(doc, 's3:DeleteObject', 'arn:aws:s3:::b/other/x')).toBe(false)
  })
})
