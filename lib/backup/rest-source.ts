// The Supabase API as the backup source (no database connection): tables read one
// page at a time, auth users through the admin API. Not one snapshot: the manifest
// says `consistent: false` and records the time window the reads span.
import type { Transform } from 'node:stream'
import type { RestClient } from '../adapters/rest/client.ts'
import type { HttpStats } from '../adapters/rest/http.ts'
import type { RestTable } from '../adapters/rest/openapi.ts'
import type { Store } from '../adapters/store/store.ts'
import { type ForeignKeyInfo, type Manifest, qualifiedName } from '../archive/manifest.ts'
import { planRestoreOrder } from '../archive/restore-order.ts'
import type { ArchiveWriter } from '../archive/writer.ts'
import type { EmitEvent } from '../core/events.ts'
import type { PhaseScope } from '../core/pipeline.ts'
import { supabaseProjectRef } from '../core/rest-config.ts'
import type { Selection } from '../core/selection.ts'
import type { SigningKey } from '../trust/signature.ts'
import { type BackupSource, type BackupSummary, backupFrom, type SourcePlan } from './backup.ts'
import {
  backUpAuthUsers,
  backUpTable,
  discoverTables,
  type RestReadOptions,
  type RestTableEntry,
  resolveForeignKeys,
  type TimeWindow,
} from './rest-tables.ts'

export type { RestTableEntry, TimeWindow } from './rest-tables.ts'
export { columnInfo, discoverTables, resolveForeignKeys } from './rest-tables.ts'

/** What a REST backup's manifest adds: where it came from and the window it spans. */
export type RestManifest = Manifest & {
  source: Manifest['source'] & { api: string; window: TimeWindow }
}

const AUTH_USERS = 'auth.users'

export class RestSource implements BackupSource<RestManifest> {
  readonly kind = 'rest'
  readonly #client: RestClient
  readonly #now: () => Date
  readonly #options: RestReadOptions
  #tables = new Map<string, RestTable>()
  #foreignKeys = new Map<string, ForeignKeyInfo[]>()
  #order: string[] = []

  constructor(client: RestClient, now: () => Date, options: RestReadOptions) {
    this.#client = client
    this.#now = now
    this.#options = options
  }

  async open(scope: PhaseScope, warn: (message: string) => void): Promise<SourcePlan> {
    const options = this.#options
    // Inherent to the mode: said once as a note, not as a warning on every nightly run.
    scope.emit({
      type: 'step',
      message:
        'API-only backup: tables are read one page at a time, not from one snapshot (the manifest says consistent: false)',
    })
    scope.emit({ type: 'step', message: `reading the API description of ${options.schemas.join(', ')}` })
    const tables = await discoverTables(this.#client, options, warn)
    if (tables.length === 0 && !options.authUsers)
      warn('no exposed table matched the selection: the backup holds no data')
    this.#tables = new Map(tables.map((t) => [qualifiedName(t), t]))
    this.#foreignKeys = new Map(
      tables.map((t) => [qualifiedName(t), resolveForeignKeys(t, tables, options.authUsers, warn)]),
    )
    this.#order = planRestoreOrder([
      ...(options.authUsers ? [{ name: AUTH_USERS, references: [] }] : []),
      ...tables.map((t) => ({
        name: qualifiedName(t),
        references: this.#foreignKeys
          .get(qualifiedName(t))!
          .map((f) => `${f.referencedSchema}.${f.referencedTable}`),
      })),
    ]).order
    return { restoreOrder: this.#order, sequences: [] }
  }

  async writeSchema(): Promise<null> {
    return null
  }

  async exportTables(
    writer: ArchiveWriter,
    scope: PhaseScope,
    warn: (message: string) => void,
  ): Promise<RestTableEntry[]> {
    const deps = { client: this.#client, emit: scope.emit, now: this.#now }
    const entries: RestTableEntry[] = []
    for (const [index, name] of this.#order.entries()) {
      if (scope.signal.aborted) break
      const began = Date.now()
      scope.emit({ type: 'table-start', table: name, index, total: this.#order.length })
      const entry =
        name === AUTH_USERS
          ? await backUpAuthUsers(deps, writer, this.#options)
          : await backUpTable(
              deps,
              writer,
              this.#tables.get(name)!,
              this.#foreignKeys.get(name)!,
              this.#options,
              warn,
            )
      writer.add(entry.file)
      entries.push(entry)
      scope.emit({
        type: 'table-done',
        table: name,
        rows: entry.rows,
        bytes: entry.bytes,
        seconds: (Date.now() - began) / 1000,
      })
    }
    if (entries.length > 0) {
      scope.emit({
        type: 'step',
        message:
          'sequence values are not visible through the API: after a restore, advance them (docs/api-mode.md)',
      })
    }
    return entries
  }

  describe(started: Date, finished: Date): RestManifest['source'] {
    const apiUrl = new URL(this.#client.url)
    return {
      kind: 'rest',
      // The API does not tell the server's version or the database's name.
      serverVersion: 'unknown',
      database: supabaseProjectRef(apiUrl.hostname) ?? apiUrl.hostname,
      host: apiUrl.host,
      snapshot: null,
      consistent: false,
      api: apiUrl.origin,
      window: { from: started.toISOString(), to: finished.toISOString() },
    }
  }

  async finish(): Promise<void> {}

  async close(): Promise<void> {}
}

export interface RestBackupDeps {
  client: RestClient
  store: Store
  emit: EmitEvent
  now: () => Date
  tempDir: string
  encrypt?: () => Transform
  signal?: AbortSignal
  signingKey?: SigningKey | undefined
  /** The retrying fetch's counters, reported in the result. */
  stats?: HttpStats
}

export interface RestBackupOptions extends RestReadOptions {
  gzipLevel: number
  selection: Selection
}

export type RestBackupResult = BackupSummary<RestManifest> & { requests: number; retries: number }

/** A backup through the Supabase API only (no database connection). */
export async function runRestBackup(
  deps: RestBackupDeps,
  options: RestBackupOptions,
): Promise<RestBackupResult> {
  const source = new RestSource(deps.client, deps.now, options)
  const result = await backupFrom<RestManifest>(deps, source, { gzipLevel: options.gzipLevel })
  return { ...result, requests: deps.stats?.requests ?? 0, retries: deps.stats?.retries ?? 0 }
}
