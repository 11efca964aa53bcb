// An application on a Supabase-shaped project, with data put in the way each part of
// Supabase would: sign-ups by the Auth service's role (so the trigger makes profiles),
// buckets and objects by the Storage service's role, app rows by postgres.
import { randomBytes, randomUUID } from 'node:crypto'
import type pg from 'pg'
import { withClient } from '../database.ts'
import { APP, appSchemaSql } from './app-schema.ts'
import type { SupabaseProject } from './project.ts'

export { APP }

export interface SupabaseApp {
  project: SupabaseProject
  /** auth.users ids, in sign-up order. */
  userIds: string[]
  /** storage.objects ids, one avatar per user. */
  objectIds: string[]
}

export interface SignUp {
  email: string
  fullName?: string
}

/** A bcrypt-shaped placeholder: the Auth service hashes passwords itself. */
function fakePasswordHash(): string {
  return `$2a$10$${randomBytes(40).toString('base64url').slice(0, 53)}`
}

async function insertUser(client: pg.Client, user: SignUp): Promise<string> {
  const id = randomUUID()
  await client.query(
    `INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
       raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
     VALUES ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, $3, now(),
       '{"provider":"email","providers":["email"]}', $4, now(), now())`,
    [id, user.email, fakePasswordHash(), JSON.stringify({ full_name: user.fullName ?? null })],
  )
  await client.query(
    `INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
     VALUES ($1::text, $1::uuid, $2, 'email', now(), now(), now())`,
    [id, JSON.stringify({ sub: id, email: user.email, email_verified: true })],
  )
  return id
}

/**
 * A sign-up as the Auth service performs it: connected as supabase_auth_admin, one
 * auth.users row and its email identity. Returns the new user's id.
 */
export async function signUp(project: SupabaseProject, user: SignUp): Promise<string> {
  return withClient(project.urlAs('supabase_auth_admin'), (client) => insertUser(client, user))
}

async function seedAuth(project: SupabaseProject, users: number): Promise<string[]> {
  return withClient(project.urlAs('supabase_auth_admin'), async (client) => {
    const ids: string[] = []
    for (let i = 0; i < users; i++) {
      const id = await insertUser(client, { email: `user${i}@example.com`, fullName: `User ${i}` })
      const session = randomUUID()
      await client.query(
        `INSERT INTO auth.sessions (id, user_id, created_at, updated_at, aal) VALUES ($1, $2, now(), now(), 'aal1')`,
        [session, id],
      )
      await client.query(
        `INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, session_id)
         VALUES ('00000000-0000-0000-0000-000000000000', $1, $2, false, now(), now(), $3)`,
        [randomBytes(12).toString('hex'), id, session],
      )
      ids.push(id)
    }
    return ids
  })
}

/** As the Storage service: a public avatars bucket and one object per user. */
async function seedStorage(project: SupabaseProject, userIds: readonly string[]): Promise<string[]> {
  return withClient(project.urlAs('supabase_storage_admin'), async (client) => {
    await client.query(
      `INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
       VALUES ('avatars', 'avatars', true, 1048576, '{image/png,image/jpeg}')`,
    )
    const ids: string[] = []
    for (const userId of userIds) {
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO storage.objects (bucket_id, name, owner, owner_id, metadata)
         VALUES ('avatars', $1, $2::uuid, $2::text, '{"size":2048,"mimetype":"image/png"}') RETURNING id`,
        [`${userId}/avatar.png`, userId],
      )
      ids.push(rows[0]!.id)
    }
    return ids
  })
}

/** App rows as postgres; the materialized view is refreshed last, as a nightly job would. */
async function seedApp(project: SupabaseProject, userIds: string[], objectIds: string[]): Promise<void> {
  await withClient(project.postgresUrl, async (client) => {
    for (const [i, userId] of userIds.entries()) {
      await client.query(`UPDATE public.profiles SET username = $2, plan = $3 WHERE id = $1`, [
        userId,
        `User_${i}`,
        i === 0 ? 'pro' : 'free',
      ])
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO public.messages (profile_id, body, created_at)
         VALUES ($1, $2, timestamptz '2026-01-10 12:00Z' + $3 * interval '1 day') RETURNING id`,
        [userId, `hello from user ${i}`, i],
      )
      await client.query(`INSERT INTO public.attachments (message_id, object_id) VALUES ($1, $2)`, [
        rows[0]!.id,
        objectIds[i],
      ])
      await client.query(`INSERT INTO public.private_notes (profile_id, note) VALUES ($1, $2)`, [
        userId,
        `note ${i}`,
      ])
      await client.query(`INSERT INTO public.invoices (profile_id, amount) VALUES ($1, $2), ($1, $3)`, [
        userId,
        100 + i,
        250,
      ])
    }
    await client.query(`INSERT INTO public.staff_audit (actor, action) VALUES ('ops', 'created the project')`)
    await client.query('REFRESH MATERIALIZED VIEW public.daily_messages')
  })
}

/** Runs the app's migrations as postgres, then seeds `users` users (default 3) and their data. */
export async function createSupabaseApp(
  project: SupabaseProject,
  options: { users?: number } = {},
): Promise<SupabaseApp> {
  await withClient(project.postgresUrl, (client) => client.query(`BEGIN; ${appSchemaSql()} COMMIT;`))
  const userIds = await seedAuth(project, options.users ?? 3)
  const objectIds = await seedStorage(project, userIds)
  await seedApp(project, userIds, objectIds)
  return { project, userIds, objectIds }
}
