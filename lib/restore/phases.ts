// The restore's phases, in order. Each reads what earlier phases left in the context
// and sets its own part; what differs between targets is behind the Target port.
import { assertSignedBytes, fetchArchive, type LocalArchive, verifyFetchedArchive } from '../archive/fetch.ts'
import { type Manifest, qualifiedName } from '../archive/manifest.ts'
import { VerifiedArchiveCursor } from '../archive/verified-cursor.ts'
import { isLifeboatError, LifeboatError } from '../core/errors.ts'
import type { Phase, PhaseScope } from '../core/pipeline.ts'
import { SUPABASE_PRIVILEGED_EXTENSIONS } from '../core/supabase-platform.ts'
import type { RestoreContext } from './restore.ts'
import { selectArchiveTables, sequencesToRestore } from './subset.ts'
import type { RestorePlan, RestoreTarget } from './target.ts'

/** The target may be refused before anything is downloaded. */
const guard: Phase<RestoreContext> = {
  name: 'guard',
  run: ({ target }) => target.guard(),
}

/**
 * A stored archive is downloaded once, in the background: the phases after this one
 * read it as it arrives. A local one is read in place.
 */
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

/**
 * Whether the whole archive is read and checked before the first write. A stored
 * archive is loaded as it is downloaded and verified (one pass, inside the
 * transaction): every file against its signed sidecar as it passes, and its bytes
 * against the sidecar's sha256 once they have all arrived, before the commit. A local
 * archive's expectation is its own signed manifest.json, at the end of the archive; a
 * target whose writes others see at once (the API) gets nothing unverified.
 */
export function verifyBeforeLoading(archive: LocalArchive, target: Pick<RestoreTarget, 'atomic'>): boolean {
  return !archive.expected || !target.atomic
}

/** The full verify pass: every byte checked against the manifest, nothing written. */
const verifyArchive: Phase<RestoreContext> = {
  name: 'verify-archive',
  when: (context) => verifyBeforeLoading(context.archive!, context.target),
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
    context.verifiedWhole = true
    await context.target.guard(verified.manifest.source)
  },
}

/**
 * The archive is opened for the load's read: every file is checked against the
 * authenticated manifest as it passes (lib/archive/verified-read.ts); schema.sql and
 * roles.sql, which come first, are read and checked whole here, before they are used.
 */
const openArchive: Phase<RestoreContext> = {
  name: 'open-archive',
  async run(context, scope) {
    if (!context.manifest) await adoptSidecar(context)
    const late = await openVerifiedRead(context, scope)
    if (late.length === 0) return
    // Packed in another order (by hand, with tar): verified whole first, then read again.
    scope.emit({
      type: 'step',
      message: `${late.join(' and ')} come after the data files: verifying the whole archive first`,
    })
    await context.cursor!.close()
    await verifyArchive.run(context, scope)
    await openVerifiedRead(context, scope)
  },
}

/** Opens the read and takes the files before the first data file; returns those the load needs but did not get. */
async function openVerifiedRead(context: RestoreContext, scope: PhaseScope): Promise<string[]> {
  const archive = context.archive!
  const cursor = new VerifiedArchiveCursor(archive.open(), context.manifest!, {
    where: archive.where,
    transforms: archive.encrypted ? [context.deps.decrypt(archive.where)] : [],
    signal: scope.signal,
  })
  context.cursor = cursor
  scope.defer(() => cursor.close())
  let entry = await cursor.next()
  for (; entry && entry.kind !== 'data'; entry = await cursor.next()) {
    if (entry.kind === 'schema') context.schemaSql = entry.sql
    else context.rolesSql = entry.sql
  }
  if (entry) cursor.keep()
  return [
    ...(context.manifest!.schemaSql && context.schemaSql === undefined ? ['schema.sql'] : []),
    ...(context.manifest!.roles?.file && context.rolesSql === undefined ? ['roles.sql'] : []),
  ]
}

/** Without the verify pass, the signed sidecar is the manifest every file is checked against. */
async function adoptSidecar(context: RestoreContext): Promise<void> {
  const archive = context.archive!
  const { archive: _stored, ...manifest } = archive.expected!
  if (manifest.id !== archive.id) {
    throw new LifeboatError('VERIFY_FAILED', `${archive.where}: its sidecar names backup ${manifest.id}`)
  }
  const authenticity = archive.authenticity
  if (!authenticity) throw new LifeboatError('INTERNAL', `${archive.where} was not authenticated`)
  if (authenticity.status === 'unsigned')
    context.deps.emit({ type: 'warning', message: authenticity.warning })
  context.authenticity = authenticity
  context.manifest = manifest
  await context.target.guard(manifest.source)
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
    // A Supabase project's backup may need what its platform let postgres create
    // (moddatetime, vector), also on a drill's plain scratch server.
    ...((manifest.source.migrations?.length ?? 0) > 0
      ? { allowedExtensions: SUPABASE_PRIVILEGED_EXTENSIONS }
      : {}),
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

/** The data files, each into its table as it is read and checked (the open-archive read). */
const load: Phase<RestoreContext> = {
  name: 'load',
  async run(context, scope) {
    const plan = context.plan!
    const cursor = context.cursor!
    const byFile = new Map(plan.tables.map((t) => [t.file, t]))
    const sum = (key: 'rows' | 'bytes') => plan.tables.reduce((n, t) => n + t[key], 0)
    scope.emit({
      type: 'phase-start',
      phase: 'load',
      total: { rows: sum('rows'), bytes: sum('bytes'), tables: plan.tables.length },
    })
    let index = 0
    // A file not selected is left unread: the cursor still reads it through and checks it.
    for (let entry = await cursor.next(); entry; entry = await cursor.next()) {
      if (entry.kind !== 'data') continue
      const table = byFile.get(entry.path)
      if (!table) continue
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
      const outcome = await context.target.load.table(table, entry.stream, scope).catch(async (error) => {
        throw await blameArchive(context, scope, error)
      })
      if (!outcome) continue
      context.outcomes.set(name, outcome)
      scope.emit({
        type: 'table-done',
        phase: 'load',
        table: name,
        rows: outcome.rowsLoaded,
        bytes: outcome.bytes,
        seconds: outcome.loadSeconds,
      })
    }
    // The archive has ended and passed its end checks (its manifest.json, SHA256SUMS, no
    // file missing), and all of a stored one has arrived: its bytes are the signed ones.
    await assertSignedBytes(context.archive!)
    for (const outcome of await context.target.load.finish(scope))
      context.outcomes.set(outcome.table, outcome)
    scope.emit({ type: 'phase-done', phase: 'load' })
    assertEveryTableLoaded(context)
  },
}

/**
 * A data file checked as it loads is judged at its end; a changed byte may stop its load
 * before that (a line that is no longer JSON, a value the column refuses). When the
 * archive was not verified whole first, it is now (nothing more is written): a file
 * that is not the manifest's is the failure to report (VERIFY_FAILED), not the target.
 */
async function blameArchive(context: RestoreContext, scope: PhaseScope, error: unknown): Promise<unknown> {
  const code = isLifeboatError(error) ? error.code : undefined
  if (context.verifiedWhole || code === 'VERIFY_FAILED' || code === 'INTERRUPTED') return error
  // Bytes that could not be read (a download that broke off) cannot be read again either.
  if (code === 'DB_UNREACHABLE' || code === 'STORE_IO' || scope.signal.aborted) return error
  await context.cursor!.close()
  scope.emit({ type: 'step', message: `the load failed: checking the whole archive to see why` })
  try {
    await verifyFetchedArchive(context.archive!, { ...context.deps, emit: () => {}, signal: scope.signal })
  } catch (verdict) {
    if (isLifeboatError(verdict) && verdict.code === 'VERIFY_FAILED') return verdict
  }
  return error
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
  openArchive,
  checkTarget,
  begin,
  load,
  postData,
  constraints,
  prove,
  sequences,
  commit,
]

/**
 * A preview (--dry-run) writes nothing, so it reads the archive once, whole: every file
 * verified, then every check against the target.
 */
export const PREVIEW_PHASES: readonly Phase<RestoreContext>[] = [
  guard,
  download,
  { name: verifyArchive.name, run: verifyArchive.run },
  checkTarget,
]
