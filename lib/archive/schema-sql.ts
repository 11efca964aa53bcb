// schema.sql as the archive holds it: the line that splits what must exist before the
// data (types, tables) from what is faster built after it (indexes, constraints,
// triggers). lib/trust/schema-statements.ts parses the file and honours it. Pure.

export const POST_DATA_MARKER = '-- lifeboat:post-data'
