// schema.sql as the archive holds it: the post-data marker that splits what must
// exist before the data from what is faster built after it. Pure.
import { LifeboatError } from '../core/errors.ts'

export const POST_DATA_MARKER = '-- lifeboat:post-data'

/** psql meta-commands pg_dump may emit (`\restrict` since 17.6/16.10/15.14); the server cannot run them. */
const META_COMMAND = /^\\(?:restrict|unrestrict|connect|c|encoding|set|unset)(?:\s.*)?$/

/** Transaction control would end the restore's transaction early and break all-or-nothing. */
const TRANSACTION_CONTROL =
  /^\s*(?:BEGIN|COMMIT|END|ROLLBACK|START\s+TRANSACTION|ABORT)\s*(?:WORK|TRANSACTION)?\s*;/i

/**
 * Splits schema.sql into what must exist before the data (types, tables) and what
 * is faster built after it (indexes, constraints, triggers), at the marker line the
 * schema generator may write; without the marker everything goes first.
 */
export function splitSchemaSql(text: string): { preData: string; postData: string } {
  const lines = text.split('\n')
  const kept: string[] = []
  let marker = -1
  // Lines inside dollar-quoted bodies (functions: `END;`, `COMMIT;` in a procedure) are code, not commands.
  let quote: string | undefined
  lines.forEach((line, index) => {
    const outside = quote === undefined
    // Outside a body, `'costs $$'` is a string, not the start of one.
    const code = outside ? line.replace(/'(?:[^']|'')*'/g, "''") : line
    for (const match of code.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)?\$/g)) {
      if (quote === undefined) quote = match[0]
      else if (match[0] === quote) quote = undefined
    }
    if (outside && META_COMMAND.test(line.trimEnd())) return
    if (outside && TRANSACTION_CONTROL.test(line)) {
      throw new LifeboatError(
        'ARCHIVE_FORMAT',
        `schema.sql line ${index + 1} controls transactions ("${line.trim().slice(0, 40)}"); the restore runs it inside its own transaction`,
      )
    }
    if (outside && marker === -1 && line.trim() === POST_DATA_MARKER) marker = kept.length
    kept.push(line)
  })
  if (marker === -1) return { preData: kept.join('\n'), postData: '' }
  return { preData: kept.slice(0, marker).join('\n'), postData: kept.slice(marker).join('\n') }
}
