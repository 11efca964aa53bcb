// schema.sql's text (pure): header, session settings, extensions, the planned DDL
// with its post-data marker, and the access part both generation paths end with.
import type { ManifestAccess, OmittedObject, SchemaCapture } from '../../../archive/access.ts'
import { sqlIdent } from '../../../archive/acl.ts'
import { POST_DATA_MARKER } from '../../../archive/schema-sql.ts'
import type { CatalogPlan } from '../schema-from-catalog.ts'
import type { SchemaCatalog } from './catalog-types.ts'
import { commentLine } from './plan-nodes.ts'
import {
  defaultAclStatements,
  ownerStatements,
  privilegeStatements,
  publicationStatements,
} from './render-access.ts'

export const SESSION_SETTINGS = [
  'SET statement_timeout = 0;',
  'SET lock_timeout = 0;',
  'SET idle_in_transaction_session_timeout = 0;',
  "SET client_encoding = 'UTF8';",
  'SET standard_conforming_strings = on;',
  "SELECT pg_catalog.set_config('search_path', '', false);",
  // Function bodies may name tables created later; pg_dump loads with the same setting.
  'SET check_function_bodies = false;',
  'SET xmloption = content;',
  'SET client_min_messages = warning;',
  'SET row_security = off;',
]

export interface Section {
  title: string
  statements: string[]
}

export function header(lines: readonly string[]): string {
  return ['--', ...lines.map(commentLine), '--'].join('\n')
}

export function describeSchemas(catalog: SchemaCatalog): string {
  return catalog.schemas.map((s) => s.ident).join(', ') || '(none of the selected schemas exist)'
}

/**
 * Extensions the DDL needs are created (IF NOT EXISTS: a Supabase project has most
 * of them in `extensions` already, and keeps its own). The source's others need no
 * statement here: the restore creates them where the target offers and allows them
 * (manifest `schemaSql.extensions`), and says which it could not.
 */
export function extensionStatements(plan: CatalogPlan, capture: SchemaCapture): string[] {
  const optional = capture.extensions
    .filter((e) => !e.required)
    .map(
      (e) =>
        `-- not needed by this file, created by the restore where allowed: CREATE EXTENSION IF NOT EXISTS ${sqlIdent(e.name)} WITH SCHEMA ${sqlIdent(e.schema)};`,
    )
  return [
    ...plan.extensionSchemas.map((schema) => `CREATE SCHEMA IF NOT EXISTS ${schema};`),
    ...plan.extensions.map(
      (e) => `CREATE EXTENSION IF NOT EXISTS ${e.ident} WITH SCHEMA ${e.schemaIdent} CASCADE;`,
    ),
    ...optional,
  ]
}

/** What the target must already have, and what is knowingly left out: the header says so. */
export function requirementLines(plan: CatalogPlan, omitted: readonly OmittedObject[]): string[] {
  const lines: string[] = [
    'Apply roles.sql first: it creates the roles this file names (owners, grants, policies).',
  ]
  if (plan.roles.length > 0)
    lines.push(`Roles the policies name (they must exist on the target): ${plan.roles.join(', ')}`)
  if (plan.external.length > 0) {
    lines.push(`Objects outside these schemas that the DDL refers to (they must exist on the target):`)
    for (const name of plan.external) lines.push(`  ${name}`)
  }
  if (omitted.length > 0) {
    lines.push('Not reproduced (also listed in the manifest, schemaSql.omitted):')
    for (const o of omitted) lines.push(`  ${o.kind} ${o.name}: ${o.reason}`)
  }
  return lines
}

export interface AccessPartOptions {
  /** Grantees the target's default privileges may have given something (anon, …). */
  candidates: readonly string[]
  /** Roles whose default privileges are the platform's (FOR ROLE supabase_admin): left to the target. */
  skipDefaultsOf: (role: string) => boolean
  /** pg_dump sets owners itself. */
  owners: boolean
  /** Owners of created objects the access data does not list (the plan's `owners`). */
  moreOwners?: readonly { target: string; owner: string }[]
}

/** Owners, absolute privileges, default privileges and publication membership, after every object exists. */
export function accessSections(access: ManifestAccess, options: AccessPartOptions): Section[] {
  const version = access.serverVersionNum
  const schemas = access.objects.filter((o) => o.kind === 'schema')
  const privileges = access.objects
    .filter((o) => o.kind !== 'schema')
    .flatMap((o) => privilegeStatements(o, version, options.candidates))
  const defaults = access.defaultAcls
    .filter((d) => !options.skipDefaultsOf(d.role))
    .flatMap((d) => defaultAclStatements(d, version, options.candidates))
  return [
    {
      // A role given a table must hold CREATE on its schema (unless a superuser restores).
      title: 'Privileges on the schemas, before owners change',
      statements: schemas.flatMap((o) => privilegeStatements(o, version, options.candidates)),
    },
    ...(options.owners
      ? [
          {
            title: 'Owners',
            statements: [
              ...ownerStatements(access),
              ...(options.moreOwners ?? []).map((o) => `ALTER ${o.target} OWNER TO ${sqlIdent(o.owner)};`),
            ],
          },
        ]
      : []),
    {
      title:
        'Privileges, exactly as in the source (whatever default privileges granted at CREATE is revoked)',
      statements: privileges,
    },
    {
      title: 'Default privileges, after the objects so that they apply only to objects created later',
      statements: defaults,
    },
    { title: 'Publication membership', statements: access.publications.flatMap(publicationStatements) },
  ]
}

export function renderSections(sections: readonly Section[]): string[] {
  return sections
    .filter((s) => s.statements.length > 0)
    .map((s) => `${commentLine(s.title)}\n\n${s.statements.join('\n\n')}`)
}

const POST_DATA_TITLES =
  /^(Primary keys|Indexes|Partition indexes|Foreign keys|Triggers|Rules|Row level security|Owners|Privileges)/
const DATA_HOLDING_TITLES = /^(Tables|Sequences)$/

/**
 * Where the post-data part begins: the first keys/indexes/triggers section, as long
 * as nothing that holds data is created after it; otherwise no split (-1).
 */
export function postDataStart(sections: readonly { title: string }[]): number {
  const first = sections.findIndex((s) => POST_DATA_TITLES.test(s.title))
  if (first === -1) return -1
  return sections.slice(first).some((s) => DATA_HOLDING_TITLES.test(s.title)) ? -1 : first
}

/** The catalog path's schema.sql: the plan's DDL, then the access part. */
export function renderCatalogSql(
  catalog: SchemaCatalog,
  plan: CatalogPlan,
  parts: { notes: readonly string[]; capture: SchemaCapture; access: Section[] },
): string {
  const out: string[] = [
    header([
      'Lifeboat schema.sql: the DDL to recreate the backed-up schemas in an empty database.',
      `Source: catalog (PostgreSQL ${catalog.serverVersion} catalogs and pg_get_*def() functions)`,
      ...parts.notes,
      `Schemas: ${describeSchemas(catalog)}`,
      'Not included: tablespaces, per-column statistics targets, security labels.',
      ...requirementLines(plan, parts.capture.omitted),
    ]),
    SESSION_SETTINGS.join('\n'),
  ]
  const schemas = catalog.schemas
    .filter((s) => s.name !== 'public')
    .map((s) => `CREATE SCHEMA IF NOT EXISTS ${s.ident};`)
  const sections: Section[] = [
    { title: 'Schemas', statements: schemas },
    { title: 'Extensions', statements: extensionStatements(plan, parts.capture) },
    ...plan.sections,
    ...parts.access,
  ]
  const marker = postDataStart(sections)
  sections.forEach((section, index) => {
    if (index === marker) out.push(POST_DATA_MARKER)
    out.push(...renderSections([section]))
  })
  return `${out.join('\n\n')}\n`
}

/**
 * The privileges of `public` for the start of the pg_dump path: the schema exists on
 * every target, and pg_dump hands objects to their owners before its own GRANTs.
 */
export function publicSchemaPrivileges(access: ManifestAccess, candidates: readonly string[]): string[] {
  const schema = access.objects.find((o) => o.kind === 'schema' && o.name === 'public')
  return schema ? privilegeStatements(schema, access.serverVersionNum, candidates) : []
}
