// The structure around the rows, captured by the backup and brought back by hand:
// roles.sql then schema.sql, applied with psql into an empty database on a fresh
// cluster, give the source's owners, privileges, default privileges, policies, RLS,
// publication membership, comments, aggregates, views, materialized views, triggers
// and roles, on both generation paths; and never more access than the source had.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type PostgresMajor,
  startThrowawayPostgres,
  type ThrowawayPostgres,
} from '../../lib/adapters/postgres/throwaway.ts'
import { sampleRoles } from '../../lib/demo/sample-structure.ts'
import { inspectSchemaSql } from '../../lib/trust/inspect-schema-sql.ts'
import { plainServerUrl } from '../helpers/clusters.ts'
import { sql, urlOn } from '../helpers/database.ts'
import { describeStructure, privilegesOf } from '../helpers/structure.ts'
import {
  buildStructureSource,
  generateFrom,
  PLATFORM_AUTH,
  restoreStructureByHand,
} from '../helpers/structure-fixture.ts'

const ROLE_NAMES_OF = (prefix: string) => [...Object.values(sampleRoles(prefix)), 'postgres']
// auth is not selected: the trigger on auth.users comes from the functions of public.
const SCHEMAS = ['app', 'public']
const INTRUDER = 'intruder'

const restoreByHand = restoreStructureByHand

// pg_dump 15 is the newest on these machines: a 17 server takes the catalog path.
const CASES: { major: PostgresMajor; paths: readonly ('catalog' | 'pg_dump')[] }[] = [
  { major: 15, paths: ['catalog', 'pg_dump'] },
  { major: 17, paths: ['catalog'] },
]

describe.each(CASES)('structure capture on PostgreSQL $major', ({ major, paths }) => {
  const prefix = `cap${major}_${process.pid}`
  const roles = sampleRoles(prefix)
  const roleNames = ROLE_NAMES_OF(prefix)
  const sourceName = `capture_source_${major}_${process.pid}`
  let server: string
  let sourceUrl: string
  let target: ThrowawayPostgres
  let sourceFacts: string[]
  let counter = 0

  /** A new database on the fresh target cluster, with what the platform would have. */
  async function targetDatabase(prepare = ''): Promise<string> {
    const name = `restored_${counter++}`
    await sql(target.url, `CREATE DATABASE ${name}`)
    const url = target.urlFor(name)
    await sql(url, `${PLATFORM_AUTH}\n${prepare}`)
    return url
  }

  beforeAll(async () => {
    server = plainServerUrl(major)
    await sql(server, `CREATE DATABASE ${sourceName}`)
    sourceUrl = urlOn(server, sourceName)
    await buildStructureSource(sourceUrl, roles, true)
    sourceFacts = await describeStructure(sourceUrl, SCHEMAS, roleNames)
    target = await startThrowawayPostgres({ major })
    await sql(target.url, `CREATE ROLE ${INTRUDER}`)
  })

  afterAll(async () => {
    await target?.stop()
    await sql(server, `DROP DATABASE IF EXISTS ${sourceName} WITH (FORCE)`)
    await sql(server, `DROP ROLE IF EXISTS ${Object.values(roles).join(', ')}`)
  })

  it('the source holds what the comparison claims (sanity check of the fixture)', () => {
    const text = sourceFacts.join('\n')
    for (const needle of [
      `owner function public.handle_new_user() ${roles.owner}`,
      `acl table public.buildings grantor=${roles.reader} grantee=${roles.login} SELECT grantable=f`,
      `acl table public.buildings grantor=postgres grantee=${roles.reader} SELECT grantable=t`,
      `column acl public.devices.status grantor=postgres grantee=${roles.writer} UPDATE grantable=f`,
      `default acl role=postgres schema=public type=r grantee=${roles.api} INSERT`,
      `default acl role=${roles.owner} schema=* type=f grantee=${roles.owner} EXECUTE`,
      'aggregate public.kwh_total(numeric) numeric_add numeric 0 n',
      'view m public.energy_ranking populated=t',
      'view m public.never_filled populated=f',
      'trigger CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users',
      "publication rel lifeboat_sample public.devices (kind <> 'gateway'::text)",
      'comment function public.kwh_total(numeric) energy summed',
      'rls public.messages enabled=t forced=t',
      'statistics CREATE STATISTICS public.devices_kind_status (dependencies) ON kind, status FROM public.devices kind predicts status',
      `role ${roles.login} login=t inherit=t createrole=f createdb=f replication=f bypassrls=f limit=5`,
      `member ${roles.writer} in ${roles.reader} admin=t`,
    ]) {
      expect(text).toContain(needle)
    }
    // The revoked table: the default privileges gave api everything, the source took it back.
    expect(text).not.toContain(`acl table public.permissions grantor=postgres grantee=${roles.api}`)
  })

  for (const prefer of paths) {
    it(`${prefer} path: roles.sql and schema.sql by psql on a fresh cluster give the source's structure`, async () => {
      const generated = await generateFrom(sourceUrl, { schemas: SCHEMAS, prefer })
      expect(generated.source).toMatch(prefer === 'catalog' ? /^catalog$/ : /^pg_dump 15\./)
      expect(generated.capture.schema.omitted).toEqual([])
      // What the restore's statement check makes of it: every statement allowed.
      const inspected = await inspectSchemaSql(generated.sql, {
        declaredRoles: generated.capture.roles.roles.map((r) => r.name),
      })
      expect(inspected.statements.length).toBeGreaterThan(50)
      const url = await targetDatabase()
      await restoreByHand(url, generated)
      expect(await describeStructure(url, SCHEMAS, roleNames)).toEqual(sourceFacts)
    })
  }

  it('never widens access: default privileges of the target for another role give it nothing', async () => {
    const generated = await generateFrom(sourceUrl, { schemas: SCHEMAS, prefer: 'catalog' })
    const everything = (scope: string) =>
      ['TABLES', 'SEQUENCES', 'FUNCTIONS', 'TYPES']
        .map((t) => `ALTER DEFAULT PRIVILEGES${scope} GRANT ALL ON ${t} TO ${INTRUDER}, ${roles.api};`)
        .join('\n')
    const url = await targetDatabase(`${everything('')}\n${everything(' IN SCHEMA public')}
      GRANT ALL ON SCHEMA public TO ${INTRUDER};`)
    await restoreByHand(url, generated)
    expect(await privilegesOf(url, SCHEMAS, INTRUDER)).toEqual([])
    // Everything else is as in the source. The target's default privileges stay where the
    // source has none for that role, schema and kind of object (they are the target's own).
    const key = (line: string) => /^default acl (role=\S+ schema=\S+ type=\S+)/.exec(line)?.[1]
    const sourceKeys = new Set(sourceFacts.map(key).filter(Boolean))
    const facts = (await describeStructure(url, SCHEMAS, roleNames)).filter(
      (l) => !l.includes(INTRUDER) && (key(l) === undefined || sourceKeys.has(key(l))),
    )
    expect(facts).toEqual(sourceFacts)
  })
})
