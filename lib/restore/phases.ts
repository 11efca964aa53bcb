// The restore's phases, in order. Each reads what earlier phases left in the context
// and sets its own part; what differs between targets is behind the Target port.
import { fetchArchive, openArchive, verifyFetchedArchive } from '../archive/fetch.ts'
import { type Manifest, qualifiedName } from '../archive/manifest.ts'
import { readArchive } from '../archive/reader.ts'
import { LifeboatError } from '../core/errors.ts'
import type { Phase, PhaseScope } from '../core/pipeline.ts'
import type { RestoreContext } from './restore.ts'
import { selectArchiveTables, sequencesToRestore } from './subset.ts'
import type { RestorePlan } from './target.ts'

/** The target may be refused before anything is downloaded. */
const guard: Phase<RestoreContext> = {
  name: 'guard',
  run: ({ target }) => target.guard(),
}

/** A stored archive is downloaded once (both passes read it); a local one is read in place. */
const download: Phase<RestoreContext> = {
  name: 'download',
  async run(context, scope) {
    const { target, options } = context
    // A stored backup's signed sidecar names its source and tables: the target is
    // checked against it before a byte of the archive is downloaded.
    const beforeDownload = async (sidecar: Manifest) => {
      await target.guard(sidecar.source)
      if (!target.precheck) return
      const plan = planRestore(sidecar, options, undefined)
      await target.precheck(target.refinePlan ? await target.refinePlan(plan, scope) : plan, scope)
    }
    const archive = await fetchArchive(
      { ...context.deps, signal: scope.signal, beforeDownload },
      options.what,
    )
    context.archive = archive
    scope.defer(() => archive.dispose())
  },
}

/** Pass 1: every byte checked against the manifest, nothing written. */
const verifyArchive: Phase<RestoreContext> = {
  name: 'verify-archive',
  async run(context, scope) {
    const verified = await verifyFetchedArchive(context.archive!, {
      ...context.deps,
      emit: scope.emit,
      signal: scope.signal,
    })
    context.authenticity = verified.authenticity
    context.manifest = verified.manifest
    context.schemaSql = verified.schemaSql
    context.rolesSql = verified.rolesSql
    await context.target.guard(verified.manifest.source)
  },
}

/** The generic plan: the selected tables, their sequences, schema.sql if it is to be created. */
export function planRestore(
  manifest: Manifest,
  options: RestoreContext['options'],
  schemaSql: string | undefined,
  rolesSql?: string | undefined,
): RestorePlan {
  const tables = selectArchiveTables(manifest, options.selection)
  return {
    manifest,
    tables,
    sequences: sequencesToRestore(manifest, tables),
    schemaSql,
    rolesSql,
    createSchema: options.createSchema,
    ...((options.selection?.tables.length ?? 0) > 0 ? { selectedOnly: true } : {}),
    truncate: options.truncate && !options.createSchema,
    verify: options.verify,
  }
}

/** What this restore writes, and every reason the target cannot take it, before the first write. */
const checkTarget: Phase<RestoreContext> = {
  name: 'check-target',
  async run(context, scope) {
    const { target } = context
    const manifest = context.manifest!
    const plan = planRestore(manifest, context.options, context.schemaSql, context.rolesSql)
    context.plan = target.refinePlan ? await target.refinePlan(plan, scope) : plan
    await target.check(context.plan, scope)
    if (!manifest.source.consistent) {
      scope.emit({ type: 'warning', message: 'this backup was not taken from one snapshot (REST mode)' })
    }
  },
}

const begin: Phase<RestoreContext> = {
  name: 'begin',
  run: (context, scope) => context.target.begin(context.plan!, scope),
}

/** Pass 2: the archive streamed once more, each selected data file into its table. */
const load: Phase<RestoreContext> = {
  name: 'load',
  async run(context, scope) {
    const plan = context.plan!
    const archive = context.archive!
    const byFile = new Map(plan.tables.map((t) => [t.file, t]))
    const sum = (key: 'rows' | 'bytes') => plan.tables.reduce((n, t) => n + t[key], 0)
    scope.emit({
      type: 'phase-start',
      phase: 'load',
      total: { rows: sum('rows'), bytes: sum('bytes'), tables: plan.tables.length },
    })
    let index = 0
    await readArchive(
      openArchive(archive),
      async (entry) => {
        const table = byFile.get(entry.path)
        if (!table) return
        const name = qualifiedName(table)
        scope.emit({
          type: 'table-start',
          phase: 'load',
          table: name,
          index: index++,
          total: plan.tables.length,
          estimatedRows: table.rows,
          estimatedBytes: table.bytes,
        })
        const outcome = await context.target.load.table(table, entry.stream, scope)
        if (!outcome) return
        context.outcomes.set(name, outcome)
        scope.emit({
          type: 'table-done',
          phase: 'load',
          table: name,
          rows: outcome.rowsLoaded,
          bytes: outcome.bytes,
          seconds: outcome.loadSeconds,
        })
      },
      {
        where: archive.where,
        transforms: archive.encrypted ? [context.deps.decrypt(archive.where)] : [],
        signal: scope.signal,
      },
    )
    for (const outcome of await context.target.load.finish(scope))
      context.outcomes.set(outcome.table, outcome)
    scope.emit({ type: 'phase-done', phase: 'load' })
    assertEveryTableLoaded(context)
  },
}

function assertEveryTableLoaded(context: RestoreContext): void {
  const missing = context.plan!.tables.map(qualifiedName).filter((n) => !context.outcomes.has(n))
  if (missing.length > 0) {
    throw new LifeboatError(
      'RESTORE_FAILED',
      `no data file was read for ${missing.join(', ')} (${context.plan!.manifest.id})`,
    )
  }
}

const postData: Phase<RestoreContext> = {
  name: 'post-data',
  when: (context) => context.plan!.createSchema,
  run: (context, scope) => context.target.postData(context.plan!, scope),
}

const constraints: Phase<RestoreContext> = {
  name: 'constraints',
  run: (context, scope) => context.target.checkConstraints(context.plan!, scope),
}

/** The after-load proof: the target's rows against the manifest, before anything is visible. */
const prove: Phase<RestoreContext> = {
  name: 'prove',
  when: (context) => context.plan!.verify,
  run: (context, scope) => context.target.prove(context.plan!, context.outcomes, scope),
}

/** Last before the commit: a sequence the role cannot ALTER is set outside the transaction. */
const sequences: Phase<RestoreContext> = {
  name: 'sequences',
  run: (context, scope) => context.target.setSequences(context.plan!, scope),
}

const commit: Phase<RestoreContext> = {
  name: 'commit',
  run: (context, scope: PhaseScope) => context.target.commit(scope),
}

export const RESTORE_PHASES: readonly Phase<RestoreContext>[] = [
  guard,
  download,
  verifyArchive,
  checkTarget,
  begin,
  load,
  postData,
  constraints,
  prove,
  sequences,
  commit,
]
