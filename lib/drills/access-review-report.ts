// The access review of the quarterly DR test ("audit access permissions"): every principal
// that can reach the backup bucket, whom it trusts, what it may and may not do, as the
// deployed stack declares it; and what changed since the last review. Pure: the Pulumi
// program builds the document (infra/lifeboat.ts), lib/drills/access-review.ts stores it.

export interface AccessGrant {
  sid: string
  actions: string[]
  resources: string[]
  /** The statement's conditions, as JSON, when it has any. */
  conditions?: string
}

export interface AccessPrincipal {
  /** `writer`, `cleaner`, `reader`, `replication`, `operator`. */
  name: string
  kind: 'role' | 'policy'
  arn: string
  /** OIDC subjects or service principals allowed to assume it; for a policy: whoever it is attached to. */
  trusts: string[]
  allows: AccessGrant[]
  denies: AccessGrant[]
}

export interface AccessReview {
  version: 1
  stack: string
  bucket: string
  principals: AccessPrincipal[]
}

export interface AccessChange {
  principal: string
  kind: 'added' | 'removed' | 'trust' | 'allows' | 'denies'
  /** One line a reviewer reads: what was there, what is there now. */
  message: string
}

interface Statement {
  Sid?: string
  Effect: string
  Action?: string | string[]
  NotAction?: string | string[]
  Resource?: string | string[]
  NotResource?: string | string[]
  Condition?: unknown
}

/** The grants of a policy document, split by effect. */
export function grantsOf(document: { Statement: readonly Statement[] }): {
  allows: AccessGrant[]
  denies: AccessGrant[]
} {
  const grant = (s: Statement, index: number): AccessGrant => ({
    sid: s.Sid ?? `statement-${index + 1}`,
    actions: list(s.Action ?? s.NotAction).map((a) => (s.NotAction ? `NOT ${a}` : a)),
    resources: list(s.Resource ?? s.NotResource).map((r) => (s.NotResource ? `NOT ${r}` : r)),
    ...(s.Condition ? { conditions: JSON.stringify(s.Condition) } : {}),
  })
  const all = document.Statement.map(grant)
  return {
    allows: all.filter((_, i) => document.Statement[i]!.Effect === 'Allow'),
    denies: all.filter((_, i) => document.Statement[i]!.Effect === 'Deny'),
  }
}

/** Parses a stored or published review; throws a plain Error naming what is wrong. */
export function parseAccessReview(text: string): AccessReview {
  const value = JSON.parse(text) as Partial<AccessReview>
  if (value?.version !== 1 || !Array.isArray(value.principals) || typeof value.bucket !== 'string') {
    throw new Error('not an access review (version 1 with principals and bucket)')
  }
  return value as AccessReview
}

/** What changed from `previous` to `current`; an empty list when nothing did. */
export function diffAccessReviews(previous: AccessReview | undefined, current: AccessReview): AccessChange[] {
  if (!previous) return []
  const changes: AccessChange[] = []
  const before = new Map(previous.principals.map((p) => [p.name, p]))
  const after = new Map(current.principals.map((p) => [p.name, p]))
  for (const [name, p] of after) {
    const old = before.get(name)
    if (!old) {
      changes.push({ principal: name, kind: 'added', message: `${name} (${p.arn}) can now reach the bucket` })
      continue
    }
    for (const subject of p.trusts.filter((t) => !old.trusts.includes(t)))
      changes.push({ principal: name, kind: 'trust', message: `${name} now trusts ${subject}` })
    for (const subject of old.trusts.filter((t) => !p.trusts.includes(t)))
      changes.push({ principal: name, kind: 'trust', message: `${name} no longer trusts ${subject}` })
    for (const kind of ['allows', 'denies'] as const) {
      const was = new Map(old[kind].map((g) => [grantKey(g), g]))
      const now = new Map(p[kind].map((g) => [grantKey(g), g]))
      for (const [key, g] of now)
        if (!was.has(key))
          changes.push({ principal: name, kind, message: `${name} ${kind}: + ${describeGrant(g)}` })
      for (const [key, g] of was)
        if (!now.has(key))
          changes.push({ principal: name, kind, message: `${name} ${kind}: − ${describeGrant(g)}` })
    }
  }
  for (const [name, p] of before)
    if (!after.has(name))
      changes.push({
        principal: name,
        kind: 'removed',
        message: `${name} (${p.arn}) can no longer reach the bucket`,
      })
  return changes
}

/** The review as Markdown for the DR-test report: a table per principal, changes first. */
export function renderAccessReview(
  review: AccessReview,
  changes: readonly AccessChange[],
  firstReview: boolean,
): string {
  const lines = [`## Access review: ${review.bucket} (stack ${review.stack})`, '']
  if (firstReview) lines.push('First review: nothing to compare with.', '')
  else if (changes.length === 0) lines.push('No change since the last review.', '')
  else
    lines.push(
      `**${changes.length} change(s) since the last review:**`,
      '',
      ...changes.map((c) => `- **${c.message}**`),
      '',
    )
  for (const p of review.principals) {
    lines.push(
      `### ${p.name} (${p.kind})`,
      '',
      `- ARN: \`${p.arn}\``,
      `- Trusts: ${p.trusts.map((t) => `\`${t}\``).join(', ') || 'whoever it is attached to'}`,
    )
    for (const g of p.allows) lines.push(`- may: ${describeGrant(g)}`)
    for (const g of p.denies) lines.push(`- may not: ${describeGrant(g)}`)
    lines.push('')
  }
  return lines.join('\n')
}

function describeGrant(g: AccessGrant): string {
  return `${g.actions.join(', ')} on ${g.resources.join(', ')}${g.conditions ? ` when ${g.conditions}` : ''} [${g.sid}]`
}

function grantKey(g: AccessGrant): string {
  return JSON.stringify([g.actions.slice().sort(), g.resources.slice().sort(), g.conditions ?? ''])
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  return Array.isArray(value) ? value : [value]
}
