// What an API restore decides before it writes: whether the target, as PostgREST
// describes it, can take the archive's rows; which order the inserts need; and the
// setval statements a person runs afterwards (the API cannot set sequences).
import type { RestClient } from '../adapters/rest/client.ts'
import { type RestTable, usesSequence } from '../adapters/rest/openapi.ts'
import { type Manifest, qualifiedName, type TableEntry } from '../archive/manifest.ts'
import { LifeboatError, toLifeboatError } from '../core/errors.ts'
import { bareTypeName } from './target-checks.ts'

export const AUTH_USERS = 'auth.users'

export interface TargetInfo {
  tables: Map<string, RestTable>
  /** Rows already in each table (and users for auth.users). */
  rows: Map<string, number>
}

export async function readTarget(client: RestClient, tables: readonly TableEntry[]): Promise<TargetInfo> {
  const schemas = [...new Set(tables.filter((t) => qualifiedName(t) !== AUTH_USERS).map((t) => t.schema))]
  const found = new Map<string, RestTable>()
  for (const schema of schemas) {
    try {
      for (const table of await client.describe(schema)) found.set(qualifiedName(table), table)
    } catch (error) {
      const e = toLifeboatError(error)
      if (e.code === 'API_REQUEST' && /PGRST106/.test(e.message)) continue // not exposed: reported per table
      throw e
    }
  }
  const rows = new Map<string, number>()
  for (const table of tables) {
    const name = qualifiedName(table)
    if (name === AUTH_USERS) rows.set(name, (await client.listUsers(1, 1)).length)
    else if (found.has(name)) rows.set(name, await client.count(table))
  }
  return { tables: found, rows }
}

/** Types that load each other's text output unchanged, compared without modifiers or schema. */
function typesAgree(archiveType: string, targetFormat: string): boolean {
  const a = bareTypeName(archiveType)
  const b = bareTypeName(targetFormat)
  if (a === b) return true
  const family = (t: string) =>
    ['text', 'character varying', 'character', 'citext'].includes(t)
      ? 'text'
      : ['smallint', 'integer', 'bigint'].includes(t)
        ? 'integer'
        : t
  return family(a) === family(b)
}

export function checkTarget(tables: readonly TableEntry[], target: TargetInfo, truncate: boolean): void {
  const problems: string[] = []
  const notEmpty: string[] = []
  for (const table of tables) {
    const name = qualifiedName(table)
    if (name === AUTH_USERS) {
      if ((target.rows.get(name) ?? 0) > 0)
        notEmpty.push(
          `${name} (users exist; --truncate never deletes users: leave them out with -T auth.users)`,
        )
      continue
    }
    const found = target.tables.get(name)
    if (!found) {
      problems.push(
        `${name}: not exposed through the API (missing, or its schema is not in the exposed schemas)`,
      )
      continue
    }
    if (!found.insertable) problems.push(`${name}: the API offers no INSERT on it (a view, or no rights)`)
    const columns = new Map(found.columns.map((c) => [c.name, c]))
    for (const column of table.columns.filter((c) => !c.generated)) {
      const other = columns.get(column.name)
      if (!other) problems.push(`${name}.${column.name}: column missing from the target`)
      else if (!typesAgree(column.type, other.format)) {
        problems.push(
          `${name}.${column.name}: type ${column.type} in the archive, ${other.format} in the target`,
        )
      }
    }
    const archived = new Set(table.columns.map((c) => c.name))
    for (const column of found.columns) {
      if (!archived.has(column.name) && !column.nullable && column.default === undefined) {
        problems.push(
          `${name}.${column.name}: NOT NULL without a default in the target, absent from the archive`,
        )
      }
    }
    if ((target.rows.get(name) ?? 0) > 0 && !truncate)
      notEmpty.push(`${name} (${target.rows.get(name)} rows)`)
  }
  if (problems.length > 0) {
    throw new LifeboatError(
      'SCHEMA_MISMATCH',
      `the target cannot take the archive's rows: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
      {
        details: problems,
      },
    )
  }
  if (notEmpty.length > 0) {
    throw new LifeboatError(
      'TARGET_NOT_EMPTY',
      `the target already holds rows: ${notEmpty.join(', ')}; pass --truncate to replace table rows, nothing was written`,
      {
        details: notEmpty,
      },
    )
  }
}

/** A column PostgREST can filter every row by (`not.is.null`), for deletes. */

/**
 * none for, the single-column keys the target's API describes (names resolved among
 * the restored tables, same schema first).
 */
export function insertReferences(
  tables: readonly TableEntry[],
  target: { tables: ReadonlyMap<string, RestTable> },
) {
  const names = tables.map(qualifiedName)
  const resolve = (table: string, schema: string) =>
    names.includes(`${schema}.${table}`) ? `${schema}.${table}` : names.find((n) => n.endsWith(`.${table}`))
  return tables.map((t) => {
    const name = qualifiedName(t)
    const fromManifest = t.foreignKeys.map((f) => `${f.referencedSchema}.${f.referencedTable}`)
    const fromTarget =
      fromManifest.length > 0
        ? []
        : (target.tables.get(name)?.columns ?? []).flatMap((c) => {
            const parent = c.references ? resolve(c.references.table, t.schema) : undefined
            return parent ? [parent] : []
          })
    return {
      name,
      references: [...fromManifest, ...fromTarget].filter((r) => r !== name && names.includes(r)),
    }
  })
}

/** Whether every table comes after its parents in this order. */
export function respectsReferences(
  order: readonly string[],
  refs: readonly { name: string; references: string[] }[],
): boolean {
  const at = new Map(order.map((n, i) => [n, i]))
  return refs.every((r) => r.references.every((p) => at.get(p)! < at.get(r.name)!))
}

/**
 * Inserts in foreign-key order. The archive holds its tables in the manifest's restore
 * order and is streamed once when that order holds; when the target's keys ask for
 * another, the data files are unpacked to the temp folder first and loaded in that order.
 */

/** setval statements for the target: from the manifest's sequences, or for every serial/identity column. */
export function sequenceSql(manifest: Manifest, tables: readonly TableEntry[], target: TargetInfo): string[] {
  const restored = new Set(tables.map(qualifiedName))
  const literal = (text: string) => `'${text.replaceAll("'", "''")}'`
  const ident = (name: string) => `"${name.replaceAll('"', '""')}"`
  if (manifest.sequences.length > 0) {
    return manifest.sequences
      .filter((s) => !s.ownedBy || restored.has(`${s.ownedBy.schema}.${s.ownedBy.table}`))
      .map(
        (s) =>
          `SELECT pg_catalog.setval(${literal(`${ident(s.schema)}.${ident(s.name)}`)}, ${s.lastValue}, ${s.isCalled});`,
      )
  }
  const statements: string[] = []
  for (const entry of tables) {
    const table = target.tables.get(qualifiedName(entry))
    if (!table) continue
    for (const column of table.columns.filter(usesSequence)) {
      const relation = `${ident(entry.schema)}.${ident(entry.name)}`
      statements.push(
        `SELECT pg_catalog.setval(pg_get_serial_sequence(${literal(relation)}, ${literal(column.name)}), max(${ident(column.name)})) FROM ${relation} HAVING max(${ident(column.name)}) IS NOT NULL;`,
      )
    }
  }
  return statements
}
