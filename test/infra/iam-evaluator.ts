// A small IAM policy evaluator for the S3 and STS requests Lifeboat makes: Allow/Deny,
// Action/NotAction, Resource/NotResource, and the condition operators our policies use.
// Explicit Deny wins, then an Allow whose conditions all hold; otherwise implicit deny.
import type { PolicyDocument, PolicyStatement } from '../../infra/iam-documents.ts'

/** One request as IAM sees it: the action, the resource ARN and the request's context keys. */
export interface IamRequest {
  action: string
  resource: string
  /** Context keys (`s3:prefix`, `s3:if-none-match`, `aws:PrincipalArn`, …); absent keys are missing. */
  context: Record<string, string | string[] | undefined>
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny'

/** Evaluates identity and resource policies of one account together (same-account rules). */
export function evaluate(documents: readonly PolicyDocument[], request: IamRequest): Decision {
  const statements = documents.flatMap((d) => d.Statement)
  const applies = (s: PolicyStatement) =>
    actionMatches(s, request.action) && resourceMatches(s, request.resource) && conditionsHold(s, request)
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return 'explicit-deny'
  if (statements.some((s) => s.Effect === 'Allow' && applies(s))) return 'allow'
  return 'implicit-deny'
}

export function isAllowedRequest(documents: readonly PolicyDocument[], request: IamRequest): boolean {
  return evaluate(documents, request) === 'allow'
}

/** The Allow statements a request is granted by (for "and nothing more" checks). */
export function grantingStatements(documents: readonly PolicyDocument[], request: IamRequest): string[] {
  if (evaluate(documents, request) !== 'allow') return []
  return documents
    .flatMap((d) => d.Statement)
    .filter(
      (s) =>
        s.Effect === 'Allow' &&
        actionMatches(s, request.action) &&
        resourceMatches(s, request.resource) &&
        conditionsHold(s, request),
    )
    .map((s) => s.Sid)
}

function actionMatches(s: PolicyStatement, action: string): boolean {
  const notAction = (s as { NotAction?: string | string[] }).NotAction
  if (notAction !== undefined) return !asArray(notAction).some((a) => matches(a, action))
  return asArray(s.Action).some((a) => matches(a, action))
}

function resourceMatches(s: PolicyStatement, arn: string): boolean {
  if (s.NotResource !== undefined) return !asArray(s.NotResource).some((p) => matches(p, arn, true))
  if (s.Resource === undefined) return true
  return asArray(s.Resource).some((p) => matches(p, arn, true))
}

type Operator = (values: string[], expected: string[]) => boolean

const anyOf =
  (test: (value: string, expected: string) => boolean): Operator =>
  (values, expected) =>
    values.some((v) => expected.some((e) => test(v, e)))
const noneOf =
  (test: (value: string, expected: string) => boolean): Operator =>
  (values, expected) =>
    !values.some((v) => expected.some((e) => test(v, e)))

const OPERATORS: Record<string, Operator> = {
  StringEquals: anyOf((v, e) => v === e),
  StringNotEquals: noneOf((v, e) => v === e),
  StringLike: anyOf((v, e) => matches(e, v, true)),
  StringNotLike: noneOf((v, e) => matches(e, v, true)),
  ArnEquals: anyOf((v, e) => v === e),
  ArnLike: anyOf((v, e) => matches(e, v, true)),
  ArnNotEquals: noneOf((v, e) => v === e),
  ArnNotLike: noneOf((v, e) => matches(e, v, true)),
  Bool: anyOf((v, e) => v.toLowerCase() === e.toLowerCase()),
}

/** Every operator of a Condition must hold; `…IfExists` holds when the key is missing; `Null` tests presence. */
function conditionsHold(s: PolicyStatement, request: IamRequest): boolean {
  for (const [rawOperator, keys] of Object.entries(s.Condition ?? {})) {
    for (const [key, rawExpected] of Object.entries(keys)) {
      const expected = asArray(rawExpected).map(String)
      const value = request.context[key]
      if (rawOperator === 'Null') {
        const isNull = value === undefined
        if (expected.every((e) => (e === 'true') !== isNull)) return false
        continue
      }
      const ifExists = rawOperator.endsWith('IfExists')
      const operator = ifExists ? rawOperator.slice(0, -'IfExists'.length) : rawOperator
      const test = OPERATORS[operator]
      if (!test) throw new Error(`the evaluator does not know the condition operator ${rawOperator}`)
      if (value === undefined) {
        if (ifExists) continue
        // A missing key fails every operator except the negated ones, which hold (IAM's rule).
        if (operator.includes('Not')) continue
        return false
      }
      if (!test(asArray(value), expected)) return false
    }
  }
  return true
}

/** IAM wildcard matching: `*` any run, `?` one character; actions compare case-insensitively. */
export function matches(pattern: string, value: string, caseSensitive = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${source}$`, caseSensitive ? '' : 'i').test(value)
}

export function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return []
  return Array.isArray(value) ? value : [value]
}
