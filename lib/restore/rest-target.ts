// The Supabase API as the restore target: batched inserts in foreign-key order, a
// read-back through the API as the proof. No transaction spans HTTP requests: on any
// failure Lifeboat deletes what it inserted (the tables were empty before) and says so.
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { RestClient } from '../adapters/rest/client.ts'
import type { HttpStats } from '../adapters/rest/http.ts'
import type { RestTable } from '../adapters/rest/openapi.ts'
import type { TextRow } from '../adapters/rest/rows.ts'
import { type Manifest, qualifiedName, type TableEntry } from '../archive/manifest.ts'
import { planRestoreOrder } from '../archive/restore-order.ts'
import { LifeboatError, toLifeboatError } from '../core/errors.ts'
import type { PhaseScope } from '../core/pipeline.ts'
import { apiProductionReasons, supabaseProjectRef } from '../core/rest-config.ts'
import { assertTargetAllowed } from './production-guard.ts'
import {
  AUTH_USERS,
  checkTarget,
  insertReferences,
  readTarget,
  respectsReferences,
  sequenceSql,
  type TargetInfo,
} from './rest-checks.ts'
import {
  cleanUp,
  deleteColumn,
  emptyTables,
  insertAuthUsers,
  insertTable,
  lines,
  verifyRestored,
} from './rest-writes.ts'
import { type RestoreDeps, type RestoreOptions, type RestoreSummary, restoreInto } from './restore.ts'
import type { RestorePlan, RestoreTarget, TableOutcome } from './target.ts'

export interface RestTargetDeps {
  client: RestClient
  stats?: HttpStats
  now?: () => Date
  tempDir: string
}

export interface RestTargetOptions {
  /** The target's project ref (or host) when the target looks like production. */
  confirm?: string | undefined
  batchSize: number
  production: readonly { setting: string; host: string; ref: string | undefined }[]
}

/** What an API restore adds to the summary. */
export interface RestReport {
  target: { api: string; project: string }
  /** SQL to run on the target afterwards (sequences): the API cannot. */
  followUpSql: string[]
  requests: number
  retries: number
}

export class RestTarget implements RestoreTarget {
  readonly kind = 'rest'
  /** Rows inserted through the API are seen (and acted on) before the undo could remove them. */
  readonly atomic = false
  readonly description: string
  readonly #deps: RestTargetDeps
  readonly #options: RestTargetOptions
  readonly #url: URL
  readonly #ref: string | undefined
  #target: TargetInfo | undefined
  #work: string | undefined
  #began = false
  #truncated = false
  /** Tables held back because the target's keys ask for another order than the archive's. */
  #heldBack: Map<string, { entry: TableEntry; path: string }> | undefined
  #order: string[] = []
  #followUpSql: string[] = []
  readonly #inserted: { table: RestTable; column: string }[] = []
  readonly #users = { ids: [] as string[], rows: [] as TextRow[] }

  constructor(deps: RestTargetDeps, options: RestTargetOptions) {
    this.#deps = deps
    this.#options = options
    this.#url = new URL(deps.client.url)
    this.#ref = supabaseProjectRef(this.#url.hostname)
    this.description = this.#ref ?? this.#url.host
  }

  async guard(backupSource?: Manifest['source']): Promise<void> {
    assertTargetAllowed(
      apiProductionReasons({
        target: { host: this.#url.host, ref: this.#ref },
        backupSource: backupSource ? { host: backupSource.host, kind: backupSource.kind } : undefined,
        environment: this.#options.production,
      }),
      this.description,
      this.#options.confirm,
    )
  }

  async check(plan: RestorePlan, scope: PhaseScope): Promise<void> {
    if (plan.createSchema) {
      throw new LifeboatError('USAGE', 'the API cannot create a schema: restore with a database connection')
    }
    scope.emit({
      type: 'warning',
      message:
        'restoring through the API: no transaction spans the requests; on failure Lifeboat deletes what it inserted',
    })
    scope.emit({ type: 'step', message: `checking the target ${this.#deps.client.url}` })
    this.#target = await readTarget(this.#deps.client, plan.tables)
    checkTarget(plan.tables, this.#target, plan.truncate)
    const users = plan.tables.find((t) => qualifiedName(t) === AUTH_USERS)
    if (users) {
      scope.emit({
        type: 'warning',
        message:
          'auth users are recreated through the admin API: new created_at/updated_at, sessions and identities are not restored',
      })
      if (!users.columns.some((c) => c.name === 'encrypted_password')) {
        scope.emit({
          type: 'warning',
          message:
            'the backup holds no password hashes (the admin API never returns them): restored users must reset their password',
        })
      }
    }
  }

  async begin(plan: RestorePlan, scope: PhaseScope): Promise<void> {
    this.#work = await mkdtemp(join(this.#deps.tempDir, 'lifeboat-rest-restore-'))
    this.#began = true
    this.#truncated = plan.truncate
    if (plan.truncate) await emptyTables(this.#writeDeps(scope), plan.tables, this.#target!)
    // Inserts go parents first. The archive's order is used when it agrees with the
    // target's keys; otherwise the data files are held on disk and loaded in the target's.
    const refs = insertReferences(plan.tables, this.#target!)
    const planned = planRestoreOrder(refs)
    if (!respectsReferences(plan.tables.map(qualifiedName), refs) && planned.cycles.length === 0) {
      this.#heldBack = new Map()
      this.#order = planned.order
      scope.emit({
        type: 'step',
        message: "unpacking the data files: the target's foreign keys ask for another order",
      })
    }
  }

  readonly load = {
    table: async (entry: TableEntry, data: Readable, scope: PhaseScope) => {
      if (!this.#heldBack) return this.#loadTable(entry, data, scope)
      const path = join(this.#work!, `unpacked-${this.#heldBack.size}.ndjson`)
      await pipeline(data, createWriteStream(path))
      this.#heldBack.set(qualifiedName(entry), { entry, path })
      return undefined
    },
    finish: async (scope: PhaseScope) => {
      const outcomes: TableOutcome[] = []
      for (const name of this.#order) {
        const held = this.#heldBack?.get(name)
        if (!held) continue
        scope.emit({ type: 'table-start', table: name, index: outcomes.length, total: this.#order.length })
        outcomes.push(await this.#loadTable(held.entry, createReadStream(held.path), scope))
        await rm(held.path, { force: true })
      }
      return outcomes
    },
  }

  async #loadTable(entry: TableEntry, data: Readable, scope: PhaseScope): Promise<TableOutcome> {
    const name = qualifiedName(entry)
    const started = performance.now()
    const outcome: TableOutcome = {
      table: name,
      rowsExpected: entry.rows,
      rowsLoaded: 0,
      bytes: entry.bytes,
      batches: 0,
      loadSeconds: 0,
    }
    if (name === AUTH_USERS) await insertAuthUsers(this.#writeDeps(scope), lines(data), outcome, this.#users)
    else {
      const table = this.#target!.tables.get(name)!
      this.#inserted.push({ table, column: deleteColumn(table) })
      await insertTable(this.#writeDeps(scope), entry, table, lines(data), this.#options.batchSize, outcome)
    }
    outcome.loadSeconds = (performance.now() - started) / 1000
    return outcome
  }

  async postData(): Promise<void> {}

  async checkConstraints(): Promise<void> {}

  async prove(plan: RestorePlan, outcomes: Map<string, TableOutcome>, scope: PhaseScope): Promise<void> {
    await verifyRestored(
      this.#writeDeps(scope),
      this.#work!,
      plan.tables,
      this.#target!,
      outcomes,
      this.#users.rows,
    )
  }

  async setSequences(plan: RestorePlan, scope: PhaseScope): Promise<void> {
    this.#followUpSql = sequenceSql(plan.manifest, plan.tables, this.#target!)
    if (this.#followUpSql.length > 0) {
      scope.emit({
        type: 'warning',
        message: `sequences cannot be set through the API: run the ${this.#followUpSql.length} setval statements shown (SQL editor) before the application inserts rows`,
      })
    }
  }

  async commit(): Promise<void> {
    this.#began = false
  }

  async rollback(error: unknown): Promise<Error> {
    if (!this.#began) return toLifeboatError(error)
    return cleanUp(
      { client: this.#deps.client, emit: () => {} },
      error,
      this.#inserted,
      this.#users.ids,
      this.#truncated,
    )
  }

  async close(): Promise<void> {
    if (this.#work) await rm(this.#work, { recursive: true, force: true })
  }

  report(): RestReport {
    return {
      target: { api: this.#url.origin, project: this.description },
      followUpSql: this.#followUpSql,
      requests: this.#deps.stats?.requests ?? 0,
      retries: this.#deps.stats?.retries ?? 0,
    }
  }

  #writeDeps(scope: PhaseScope) {
    return { client: this.#deps.client, emit: scope.emit, ...(this.#deps.now ? { now: this.#deps.now } : {}) }
  }
}

export type RestRestoreResult = RestoreSummary & RestReport
export type RestRestoreDeps = RestoreDeps & RestTargetDeps
export type RestRestoreOptions = Omit<RestoreOptions, 'createSchema'> & RestTargetOptions

/** A restore through the Supabase API (no database connection), undone by delete on failure. */
export async function runRestRestore(
  deps: RestRestoreDeps,
  options: RestRestoreOptions,
): Promise<RestRestoreResult> {
  return restoreInto(deps, new RestTarget(deps, options), { ...options, createSchema: false })
}
