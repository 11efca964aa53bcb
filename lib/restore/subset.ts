// Which of an archive's tables and sequences a restore covers: everything, or a
// -n/-t subset by pg_dump's rules. Pure.

import { type Manifest, qualifiedName, type SequenceEntry, type TableEntry } from '../archive/manifest.ts'
import { LifeboatError } from '../core/errors.ts'
import { patternToRegExp, type Selection } from '../core/selection.ts'

/**
 * The archive's tables a restore covers, in archive (restore) order. Without
 * -n/-t everything; otherwise pg_dump's rules, applied to what the archive holds
 * (no schema is excluded by default: the backup already chose).
 */
export function selectArchiveTables(manifest: Manifest, selection: Selection | undefined): TableEntry[] {
  if (!selection) return [...manifest.tables]
  const matches = (patterns: readonly string[], schema: string, table: string | undefined) =>
    patterns.some((p) => {
      const dot = p.indexOf('.')
      if (table === undefined) return patternToRegExp(p).test(schema)
      return dot === -1
        ? patternToRegExp(p).test(table)
        : patternToRegExp(p.slice(0, dot)).test(schema) && patternToRegExp(p.slice(dot + 1)).test(table)
    })
  const chosen = manifest.tables.filter((t) => {
    if (matches(selection.excludeSchemas, t.schema, undefined)) return false
    if (matches(selection.excludeTables, t.schema, t.name)) return false
    const included =
      selection.schemas.length === 0 && selection.tables.length === 0
        ? true
        : matches(selection.schemas, t.schema, undefined) || matches(selection.tables, t.schema, t.name)
    return included
  })
  if (chosen.length === 0) {
    throw new LifeboatError('USAGE', `no table of backup ${manifest.id} matches the -n/-t/-N/-T selection`)
  }
  return chosen
}

/**
 * Sequences to set: all of them for a full restore; for a subset, every sequence a
 * restored table owns or calls in a column default (`usedBy`, standalone ones too), so
 * the next insert does not collide with a restored row.
 */
export function sequencesToRestore(manifest: Manifest, tables: readonly TableEntry[]): SequenceEntry[] {
  // A sequence owned by a table the backup left out (-T) went with it: schema.sql has none.
  const archived = new Set(manifest.tables.map(qualifiedName))
  const sequences = manifest.sequences.filter(
    (s) => !s.ownedBy || archived.has(`${s.ownedBy.schema}.${s.ownedBy.table}`),
  )
  if (tables.length === manifest.tables.length) return sequences
  const restored = new Set(tables.map(qualifiedName))
  return sequences.filter(
    (s) =>
      (s.ownedBy && restored.has(`${s.ownedBy.schema}.${s.ownedBy.table}`)) ||
      (s.usedBy ?? []).some((t) => restored.has(t)),
  )
}
