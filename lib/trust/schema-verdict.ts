// What the schema allowlist says about a statement: its kind, the objects and roles it
// names, where it belongs (before or after the data), or why it is refused.
import { isSystemSchema, type QualifiedName } from './parse-tree.ts'

export type ObjectKind =
  | 'schema'
  | 'extension'
  | 'type'
  | 'domain'
  | 'table'
  | 'sequence'
  | 'function'
  | 'procedure'
  | 'aggregate'
  | 'operator'
  | 'operator-class'
  | 'operator-family'
  | 'collation'
  | 'text-search'
  | 'view'
  | 'materialized-view'
  | 'index'
  | 'constraint'
  | 'trigger'
  | 'rule'
  | 'policy'
  | 'statistics'
  | 'publication'
  | 'role'
  | 'setting'
  | 'default-privileges'

export type Action = 'create' | 'alter' | 'owner' | 'comment' | 'grant' | 'revoke' | 'set'
/** Where a statement belongs: before the data is loaded, after it, or either. */
export type Phase = 'pre-data' | 'post-data' | 'any'

export interface Classification {
  kind: ObjectKind
  action: Action
  /** The object the statement creates or changes (for a table's constraint: the constraint). */
  object?: QualifiedName
  /** The table (or view) it belongs to: indexes, triggers, rules, policies, constraints, grants. */
  table?: QualifiedName
  /** Roles it names: owners, grantees, policy roles (PUBLIC as `PUBLIC`). */
  roles: string[]
  phase: Phase
  /** A function that runs with its owner's rights. */
  securityDefiner?: boolean
}

export type Verdict = { allowed: true; facts: Classification } | { allowed: false; reason: string }

export interface PolicyOptions {
  /** Roles the backup declares: only these may be created, or granted to each other. */
  declaredRoles: ReadonlySet<string>
  /** Extensions CREATE EXTENSION may name. */
  extensions: ReadonlySet<string>
  /** Languages functions may be written in (sql and plpgsql by default). */
  languages: ReadonlySet<string>
  /** When given, objects may be created or changed only in these schemas. */
  schemas?: ReadonlySet<string> | undefined
}

export const allow = (facts: Classification): Verdict => ({ allowed: true, facts })
export const refuse = (reason: string): Verdict => ({ allowed: false, reason })

export function within(
  options: PolicyOptions,
  name: QualifiedName | undefined,
  what: string,
): string | undefined {
  if (name?.schema !== undefined && isSystemSchema(name.schema))
    return `it changes ${what} in the system schema ${name.schema}`
  if (options.schemas && name?.schema !== undefined && !options.schemas.has(name.schema)) {
    return `it changes ${what} in schema ${name.schema}, which the backup does not hold`
  }
  return undefined
}
