// The Target port: what the restore pipeline needs of the place it restores into. One
// implementation per kind of target (a PostgreSQL database in one transaction, the
// Supabase API with undo by delete); the phases are the same for all of them.
import type { Readable } from 'node:stream'
import type { Manifest, SequenceEntry, TableEntry } from '../archive/manifest.ts'
import type { PhaseScope } from '../core/pipeline.ts'
import type { SchemaStatement } from '../trust/schema-statements.ts'

/** The rows of one table as the load saw them, and, after the proof, as the target holds them. */
export interface TableOutcome {
  table: string
  rowsExpected: number
  rowsLoaded: number
  bytes: number
  loadSeconds: number
  /** API targets: insert requests sent. */
  batches?: number
  /** API targets: GENERATED ALWAYS columns the target generated, each checked against the backup. */
  generatedByTarget?: string[]
  /** The after-load proof; absent with --no-verify. */
  rowsRestored?: number
  /**
   * The target's rows equal the backup's, by the proof `proof` names: `sha256` (the table
   * re-exported, its bytes hashed) or `digest` (the manifest's row digest, measured by the
   * server). The name is the field reports and drills have always read.
   */
  sha256Match?: boolean
  proof?: 'sha256' | 'digest'
}

/** What this restore writes, decided before the first write. */
export interface RestorePlan {
  manifest: Manifest
  /** The archive's tables this restore loads, in archive (restore) order. */
  tables: TableEntry[]
  sequences: SequenceEntry[]
  /** schema.sql as verified in pass 1 (undefined before it is, or when the backup has none); run only with createSchema. */
  schemaSql: string | undefined
  /** roles.sql as verified in pass 1; undefined unless the schema is created (or the archive has none). */
  rolesSql?: string | undefined
  createSchema: boolean
  /**
   * Tables loaded into what the target already has even when the schema is created
   * (a platform's own tables): checked for compatibility and emptiness, never created,
   * never emptied (--truncate applies to the other tables only).
   */
  existingTables?: ReadonlySet<string>
  /** With -t: schema.sql is cut to the selected tables and what they need (pg_restore -t). */
  selectedOnly?: boolean
  /** Which statements of schema.sql this restore runs (default: all of them). */
  keepStatement?: (statement: SchemaStatement) => boolean
  /**
   * Kept statements the target may refuse without the restore failing (a policy on a
   * platform's table): each behind a savepoint, a refusal reported as not reproduced.
   */
  optionalStatement?: (statement: SchemaStatement) => boolean
  /**
   * Extensions schema.sql may create beyond the trusted ones: those the target's platform
   * lets the restoring role create, or the source's did (a Supabase project's privileged
   * extensions, into a project or from one's backup).
   */
  allowedExtensions?: readonly string[]
  /** Whose privileges the access step makes the source's (default: every object of the manifest). */
  keepAccess?: (object: { schema: string; kind: string }) => boolean
  truncate: boolean
  verify: boolean
}

export interface TargetLoad {
  /**
   * Streams one table's data file into the target; undefined when it is held back for
   * later. `data` is checked against the manifest as it is read: it errors
   * (VERIFY_FAILED) instead of ending when its hash, size or rows differ.
   */
  table(entry: TableEntry, data: Readable, scope: PhaseScope): Promise<TableOutcome | undefined>
  /** After the last data file: loads what was held back (a target that needs another order). */
  finish(scope: PhaseScope): Promise<TableOutcome[]>
}

export interface RestoreTarget {
  readonly kind: 'postgres' | 'rest'
  /**
   * Nothing written is visible to anyone until `commit` (one transaction). Only such a
   * target is loaded while the archive is verified, in one pass; any other gets the
   * whole archive verified first.
   */
  readonly atomic: boolean
  /** Printable, for messages and the result; never holds a secret. */
  readonly description: string
  /**
   * Refuses a target that is (or looks like) production unless confirmed. Called
   * before the download with what the environment says, then with the backup's source.
   */
  guard(backupSource?: Manifest['source']): Promise<void>
  /**
   * Read-only, before the download, with the signed sidecar's manifest (stored backups):
   * what the target can refuse already. Optional; `check` runs all checks again.
   */
  precheck?(plan: RestorePlan, scope: PhaseScope): Promise<void>
  /**
   * Read-only, optional: the plan this target carries out instead of the generic one
   * (what it loads, creates from schema.sql, only compares). `check` then gets it.
   */
  refinePlan?(plan: RestorePlan, scope: PhaseScope): Promise<RestorePlan>
  /** Read-only: every reason the plan cannot be carried out, at once (throws). */
  check(plan: RestorePlan, scope: PhaseScope): Promise<void>
  /** Opens what makes the restore all-or-nothing and builds the schema if asked. */
  begin(plan: RestorePlan, scope: PhaseScope): Promise<void>
  /** Data loading; the target decides how (COPY, batched inserts). */
  readonly load: TargetLoad
  /** Indexes, constraints and triggers of schema.sql built after the data. */
  postData(plan: RestorePlan, scope: PhaseScope): Promise<void>
  /** Foreign keys and deferred constraints hold; triggers switched back on. */
  checkConstraints(plan: RestorePlan, scope: PhaseScope): Promise<void>
  /** The after-load proof: each table as the target now holds it, against the manifest. */
  prove(plan: RestorePlan, outcomes: Map<string, TableOutcome>, scope: PhaseScope): Promise<void>
  setSequences(plan: RestorePlan, scope: PhaseScope): Promise<void>
  /** Makes the restore visible (COMMIT); the one step after which nothing is undone. */
  commit(scope: PhaseScope): Promise<void>
  /**
   * Undoes everything written so far (nothing, when the failure came before `begin`)
   * and returns the error to report, saying what was undone.
   */
  rollback(error: unknown, phase: string): Promise<Error>
  close(): Promise<void>
}

/** How the restored tables were proven, for the result line: `every table verified by …`. */
export function proofVerdict(verified: boolean, tables: readonly Pick<TableOutcome, 'proof'>[]): string {
  if (!verified) return 'not verified (--no-verify)'
  const proofs = new Set(tables.map((t) => t.proof ?? 'sha256'))
  const by = [
    ...(proofs.has('digest') ? ['row digest'] : []),
    ...(proofs.has('sha256') || proofs.size === 0 ? ['re-export'] : []),
  ]
  return `every table verified by ${by.join(' or ')}`
}
