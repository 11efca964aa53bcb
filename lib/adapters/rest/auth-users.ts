// Auth users through the admin API (`auth.admin.listUsers`, `createUser`): the `auth`
// schema is never exposed through PostgREST. The API answers user objects, not table
// rows; they are written as `auth.users` rows (the columns the fields come from, values
// in PostgreSQL's text form) so both restore paths can use them. Password hashes are
// not part of the API's answer: restored users sign in again by reset or magic link.
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ColumnInfo } from '../../archive/manifest.ts'
import { plainTempFiles, type TempFiles } from '../../archive/temp-files.ts'
import { LifeboatError } from '../../core/errors.ts'
import type { ApiUser, RestClient } from './client.ts'
import { jsonbText, type TextRow, timestamptzText } from './rows.ts'

type FieldKind = 'text' | 'time' | 'jsonb' | 'boolean'

/** API field -> auth.users column, in the table's column order on Supabase. */
export const AUTH_USER_FIELDS: readonly { field: string; column: string; type: string; kind: FieldKind }[] = [
  { field: 'id', column: 'id', type: 'uuid', kind: 'text' },
  { field: 'aud', column: 'aud', type: 'character varying(255)', kind: 'text' },
  { field: 'role', column: 'role', type: 'character varying(255)', kind: 'text' },
  { field: 'email', column: 'email', type: 'character varying(255)', kind: 'text' },
  {
    field: 'email_confirmed_at',
    column: 'email_confirmed_at',
    type: 'timestamp with time zone',
    kind: 'time',
  },
  { field: 'last_sign_in_at', column: 'last_sign_in_at', type: 'timestamp with time zone', kind: 'time' },
  { field: 'app_metadata', column: 'raw_app_meta_data', type: 'jsonb', kind: 'jsonb' },
  { field: 'user_metadata', column: 'raw_user_meta_data', type: 'jsonb', kind: 'jsonb' },
  { field: 'created_at', column: 'created_at', type: 'timestamp with time zone', kind: 'time' },
  { field: 'updated_at', column: 'updated_at', type: 'timestamp with time zone', kind: 'time' },
  { field: 'phone', column: 'phone', type: 'text', kind: 'text' },
  {
    field: 'phone_confirmed_at',
    column: 'phone_confirmed_at',
    type: 'timestamp with time zone',
    kind: 'time',
  },
  { field: 'banned_until', column: 'banned_until', type: 'timestamp with time zone', kind: 'time' },
  { field: 'is_sso_user', column: 'is_sso_user', type: 'boolean', kind: 'boolean' },
  { field: 'is_anonymous', column: 'is_anonymous', type: 'boolean', kind: 'boolean' },
]

export interface AuthUsersExport {
  rows: number
  bytes: number
  sha256: string
  columns: ColumnInfo[]
  pages: number
}

/** Every user, page by page (1-based pages; a short page is the last). */
export async function listAllUsers(
  client: RestClient,
  perPage: number,
): Promise<{ users: ApiUser[]; pages: number }> {
  const users: ApiUser[] = []
  let pages = 0
  for (let page = 1; ; page++) {
    const batch = await client.listUsers(page, perPage)
    pages++
    users.push(...batch)
    if (batch.length < perPage) break
  }
  return { users, pages }
}

/** Users as `auth.users` rows: the columns the API answered for at least one user, id order. */
export function usersToRows(users: readonly ApiUser[]): { columns: ColumnInfo[]; rows: TextRow[] } {
  const present = AUTH_USER_FIELDS.filter(
    (f) => f.field === 'id' || users.some((u) => u[f.field] !== undefined),
  )
  const rows = users.map((user) => {
    const row: TextRow = {}
    for (const f of present) row[f.column] = fieldText(user, f.field, f.kind)
    return row
  })
  // The direct export orders by the key (uuid: byte order, which lower-case hex keeps).
  rows.sort((a, b) => (a.id! < b.id! ? -1 : a.id! > b.id! ? 1 : 0))
  const columns = present.map((f) => ({
    name: f.column,
    type: f.type,
    nullable: f.column !== 'id',
    identity: null,
    generated: false,
  }))
  return { columns, rows }
}

function fieldText(user: ApiUser, field: string, kind: FieldKind): string | null {
  const value = user[field]
  if (value === undefined || value === null) return null
  // GoTrue answers "" for an unset phone or e-mail; the column holds NULL then.
  if (value === '' && (field === 'phone' || field === 'email')) return null
  switch (kind) {
    case 'jsonb':
      return jsonbText(value)
    case 'boolean':
      return value === true ? 'true' : 'false'
    case 'time': {
      const text = timestamptzText(value)
      if (text === undefined) {
        throw new LifeboatError(
          'API_REQUEST',
          `auth user ${user.id}: ${field} "${String(value)}" is not an RFC 3339 time`,
        )
      }
      return text
    }
    default:
      return String(value)
  }
}

export function rowsToNdjson(columns: readonly ColumnInfo[], rows: readonly TextRow[]): string {
  return rows
    .map(
      (row) =>
        `{${columns.map((c) => `${JSON.stringify(c.name)}:${JSON.stringify(row[c.name] ?? null)}`).join(',')}}\n`,
    )
    .join('')
}

export async function exportAuthUsers(
  client: RestClient,
  path: string,
  perPage: number,
  files: TempFiles = plainTempFiles,
): Promise<AuthUsersExport> {
  const { users, pages } = await listAllUsers(client, perPage)
  const { columns, rows } = usersToRows(users)
  const text = rowsToNdjson(columns, rows)
  await pipeline(Readable.from([Buffer.from(text)]), files.createWriteStream(path))
  return {
    rows: rows.length,
    bytes: Buffer.byteLength(text),
    sha256: createHash('sha256').update(text).digest('hex'),
    columns,
    pages,
  }
}

/** What `auth.admin.createUser` takes to recreate an archived user (a password only if the backup has its hash). */
export function userAttributes(row: TextRow): Record<string, unknown> {
  const parse = (text: string | null | undefined) => (text ? (JSON.parse(text) as object) : undefined)
  const attributes: Record<string, unknown> = { id: row.id }
  if (row.email) attributes.email = row.email
  if (row.phone) attributes.phone = row.phone
  const userMetadata = parse(row.raw_user_meta_data)
  if (userMetadata) attributes.user_metadata = userMetadata
  const appMetadata = parse(row.raw_app_meta_data)
  if (appMetadata) attributes.app_metadata = appMetadata
  // A direct backup holds the bcrypt hashes: GoTrue takes them as password_hash.
  if (row.encrypted_password) attributes.password_hash = row.encrypted_password
  if (row.email_confirmed_at) attributes.email_confirm = true
  if (row.phone_confirmed_at) attributes.phone_confirm = true
  return attributes
}
