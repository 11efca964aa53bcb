// A selection that matches no table is an error, as `pg_dump -t` makes it: a backup that
// holds nothing would otherwise be listed, become `latest` and fill the retention floor
// while every real backup ages out. Pure.
import { LifeboatError } from '../core/errors.ts'
import type { Selection } from '../core/selection.ts'

/** `-n app -t 'public.ord*'`: the selection as the flags that made it. */
export function describeSelection(selection: Selection): string {
  const parts = [
    ...selection.schemas.map((p) => `-n ${p}`),
    ...selection.excludeSchemas.map((p) => `-N ${p}`),
    ...selection.tables.map((p) => `-t ${p}`),
    ...selection.excludeTables.map((p) => `-T ${p}`),
  ]
  return parts.join(' ')
}

/** The error for a backup whose selection holds no table; `source` names where it looked. */
export function nothingSelected(selection: Selection, source: string): LifeboatError {
  const flags = describeSelection(selection)
  const what = flags
    ? `no table in ${source} matched the selection (${flags})`
    : `${source} has no table outside the schemas Lifeboat leaves to the platform`
  return new LifeboatError('SELECTION_EMPTY', `${what}; nothing was backed up and nothing was written`)
}
