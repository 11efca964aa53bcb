// schema.sql read before anything of it runs: split by PostgreSQL's parser (on a thread
// of its own, sql-parser-thread.ts) and every statement judged by the schema step's
// allowlist (schema-statements.ts); one refused statement refuses the file.
import { LifeboatError } from '../core/errors.ts'
import {
  classifyStatements,
  type SchemaInspection,
  type SchemaInspectionOptions,
} from './schema-statements.ts'
import type { SqlParser } from './sql-parser-thread.ts'
import { splitSqlScript } from './sql-script.ts'

/**
 * Parses and checks schema.sql before anything runs. Throws SCHEMA_SQL_REFUSED naming
 * the first refused statement (line and first words; every one in `details`).
 */
export async function inspectSchemaSql(
  text: string,
  options: SchemaInspectionOptions = {},
  /** A parser started earlier, left open (splitSqlScript). */
  parser?: SqlParser,
): Promise<SchemaInspection> {
  const script = await splitSqlScript(text, parser)
  const { statements, refusals } = classifyStatements(
    script.statements,
    script.markerLine !== undefined,
    options,
  )
  if (refusals.length > 0) {
    const more = refusals.length > 1 ? ` (and ${refusals.length - 1} more)` : ''
    throw new LifeboatError('SCHEMA_SQL_REFUSED', `schema.sql ${refusals[0]}${more}; nothing was written`, {
      details: refusals,
    })
  }
  const roles = new Set(statements.flatMap((s) => s.roles).filter((r) => r !== 'PUBLIC' && r !== ''))
  return {
    statements,
    preData: statements.filter((s) => !s.postData),
    postData: statements.filter((s) => s.postData),
    markerLine: script.markerLine,
    roles: [...roles].sort(),
    strippedLines: script.strippedLines,
  }
}
