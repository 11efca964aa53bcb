// The drill report's JSON schema as docs/drills.md documents it, and a validator for
// the subset of JSON Schema it uses: tests check real reports against the documentation.
import { readFileSync } from 'node:fs'

export type Schema = {
  type?: string | string[]
  const?: unknown
  enum?: unknown[]
  required?: string[]
  properties?: Record<string, Schema>
  additionalProperties?: boolean
  items?: Schema
  minimum?: number
  exclusiveMinimum?: number
  pattern?: string
}

export function documentedSchema(): Schema {
  const text = readFileSync('docs/drills.md', 'utf8')
  const section = text.slice(text.indexOf('## Report schema'))
  const block = /```json\n([\s\S]*?)\n```/.exec(section)
  if (!block) throw new Error('docs/drills.md has no JSON schema under "## Report schema"')
  return JSON.parse(block[1]!) as Schema
}

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** The subset of JSON Schema the documented schema uses; returns every violation. */
export function validate(schema: Schema, value: unknown, path = '$'): string[] {
  const problems: string[] = []
  if (schema.const !== undefined && value !== schema.const) problems.push(`${path}: must be ${schema.const}`)
  if (schema.enum && !schema.enum.includes(value))
    problems.push(`${path}: ${JSON.stringify(value)} not in enum`)
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type]
    const actual = typeOf(value)
    const ok = types.some((t) => t === actual || (t === 'integer' && Number.isInteger(value)))
    if (!ok) return [...problems, `${path}: ${actual} is not ${types.join(' or ')}`]
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      problems.push(`${path}: below ${schema.minimum}`)
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum)
      problems.push(`${path}: too small`)
  }
  if (typeof value === 'string' && schema.pattern && !new RegExp(schema.pattern).test(value)) {
    problems.push(`${path}: "${value}" does not match ${schema.pattern}`)
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>
    for (const key of schema.required ?? []) if (!(key in object)) problems.push(`${path}: lacks ${key}`)
    for (const [key, child] of Object.entries(object)) {
      const sub = schema.properties?.[key]
      if (sub) problems.push(...validate(sub, child, `${path}.${key}`))
      else if (schema.additionalProperties === false) problems.push(`${path}: ${key} is not documented`)
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => {
      problems.push(...validate(schema.items!, item, `${path}[${i}]`))
    })
  }
  return problems
}

/** Every way a report departs from the documented schema; [] when it conforms. */
export function reportSchemaProblems(report: unknown): string[] {
  return validate(documentedSchema(), JSON.parse(JSON.stringify(report)))
}
