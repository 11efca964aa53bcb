// The doctor's checks of what the backup talks to besides the database: the Supabase API
// (API-only mode), the store (list, write, read back, delete a probe object), the encryption
// keys and the alert channels. Pure.
import type { ErrorCode } from '../core/errors.ts'
import { plural } from '../core/format.ts'
import type { Check, DoctorProbes, OpResult } from './check-types.ts'

export function addApiChecks(probes: DoctorProbes, add: (check: Check) => void): void {
  const api = probes.api
  if (!api) {
    add({ id: 'api.reachable', title: 'API', status: 'skip', detail: 'not probed' })
    return
  }
  if (api.ok) {
    add({
      id: 'api.reachable',
      title: 'API',
      status: api.tables > 0 ? 'ok' : 'warn',
      detail: `${plural(api.tables, 'table')} exposed in ${api.schemas.join(', ')}`,
      ...(api.tables > 0
        ? {}
        : { fix: 'expose the schema (Project Settings → API → Exposed schemas) or name it with -n' }),
    })
  } else {
    const auth = api.code === 'API_AUTH'
    add({
      id: 'api.reachable',
      title: 'API',
      status: 'fail',
      code: (api.code as ErrorCode) ?? 'API_UNREACHABLE',
      detail: api.message,
      fix: auth
        ? 'SUPABASE_SERVICE_ROLE_KEY must be the service_role key of this project (Project Settings → API), not the anon key'
        : 'check SUPABASE_URL (https://<project-ref>.supabase.co) and the network',
    })
  }
  if (probes.authApi) {
    add({
      id: 'api.auth_users',
      title: 'Auth admin API',
      status: probes.authApi.ok ? 'ok' : 'fail',
      ...(probes.authApi.ok ? {} : { code: 'API_AUTH' as const }),
      detail: probes.authApi.ok
        ? 'auth users can be listed (--auth-users)'
        : (probes.authApi.message ?? 'refused'),
      ...(probes.authApi.ok
        ? {}
        : { fix: 'the admin API needs the service_role key; or leave out --auth-users' }),
    })
  }
}

function storeFix(kind: 's3' | 'file' | undefined, operation: string, code: string | undefined): string {
  if (code === 'STORE_UNREACHABLE') {
    // Nothing answered: permissions cannot be the cause yet.
    return kind === 's3'
      ? 'nothing answered: check AWS_ENDPOINT_URL_S3 (host and port) or AWS_REGION, the network, a proxy or firewall; permissions matter only once the store answers'
      : 'the folder cannot be reached: check that BACKUP_STORE names a mounted path'
  }
  if (code === 'CONFIG_MISSING')
    return 'give the store credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a role (OIDC in GitHub Actions)'
  if (kind === 's3') {
    const action = {
      list: 's3:ListBucket',
      write: 's3:PutObject',
      read: 's3:GetObject',
      delete: 's3:DeleteObject',
    }[operation]
    return `allow ${action} on the bucket prefix for this role (infra/ grants the backup role put/get/list), and check AWS_REGION, AWS_ENDPOINT_URL_S3 and the credentials`
  }
  return 'BACKUP_STORE must name a folder this user can create and write (not a path below a regular file, not read-only)'
}

export function addStoreChecks(probes: DoctorProbes, add: (check: Check) => void): void {
  const store = probes.store
  const kind = probes.settings.store?.kind
  if (!store) {
    add({ id: 'store.list', title: 'Store list', status: 'skip', detail: 'no store configured' })
    return
  }
  const op = (
    id: string,
    title: string,
    result: OpResult | undefined,
    operation: string,
    okDetail: string,
  ) => {
    if (!result) return add({ id, title, status: 'skip', detail: 'skipped after an earlier failure' })
    if (result.ok) return add({ id, title, status: 'ok', detail: okDetail })
    add({
      id,
      title,
      status: 'fail',
      code: (result.code as ErrorCode) ?? 'STORE_IO',
      detail: result.message ?? 'failed',
      fix: storeFix(kind, operation, result.code),
    })
  }
  op('store.list', 'Store list', store.list, 'list', `can list ${store.location}`)
  op('store.write', 'Store write', store.put, 'write', `can write ${store.probeKey}`)
  if (store.get?.ok && store.get.matches === false) {
    add({
      id: 'store.read',
      title: 'Store read',
      status: 'fail',
      code: 'STORE_IO',
      detail: `${store.probeKey} came back different from what was written`,
      fix: 'check the endpoint (AWS_ENDPOINT_URL_S3) and the checksum settings (AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED for some S3-compatible servers)',
    })
  } else op('store.read', 'Store read', store.get, 'read', `read ${store.probeKey} back intact`)
  const del = store.delete
  if (!del)
    add({
      id: 'store.delete',
      title: 'Store delete',
      status: 'skip',
      detail: 'nothing was written to delete',
    })
  else if (del.ok) {
    add({
      id: 'store.delete',
      title: 'Store delete',
      status: 'ok',
      detail: 'this role may delete (clean needs that; a backup-only role need not), the probe is gone',
    })
  } else if (del.code === 'STORE_FORBIDDEN') {
    add({
      id: 'store.delete',
      title: 'Store delete',
      status: 'warn',
      detail: `this role may not delete: right for a backup-only role (clean runs as another); the probe ${store.probeKey} remains, one small object each run overwrites`,
      fix: "nothing to do for the backup role; run the doctor with the cleaner's credentials to check that clean may delete",
    })
  } else {
    add({
      id: 'store.delete',
      title: 'Store delete',
      status: 'fail',
      code: 'STORE_IO',
      detail: del.message ?? 'failed',
      fix: storeFix(kind, 'delete', del?.code),
    })
  }
}

export function addEncryptionChecks(probes: DoctorProbes, add: (check: Check) => void): void {
  const s = probes.settings
  if (s.recipientProblems.length > 0) {
    add({
      id: 'encryption.recipients',
      title: 'Encryption keys',
      status: 'fail',
      code: 'CONFIG_INVALID',
      detail: s.recipientProblems.join('; '),
      fix: 'BACKUP_AGE_RECIPIENTS takes age1… public keys (age-keygen -y key.txt prints one), comma or space separated',
    })
  } else if (s.recipients.length === 0) {
    add({
      id: 'encryption.recipients',
      title: 'Encryption keys',
      status: 'warn',
      detail: 'BACKUP_AGE_RECIPIENTS is not set: archives are stored unencrypted',
      fix: 'age-keygen -o key.txt (keep it offline), then set BACKUP_AGE_RECIPIENTS to the public key it prints',
    })
  } else {
    add({
      id: 'encryption.recipients',
      title: 'Encryption keys',
      status: 'ok',
      detail: `archives are encrypted to ${s.recipients.length} recipient${s.recipients.length === 1 ? '' : 's'}`,
    })
  }

  const identity = probes.identity
  if (!s.identitySet || !identity) {
    add({
      id: 'encryption.identity',
      title: 'Decryption key',
      status: 'skip',
      detail: 'BACKUP_AGE_IDENTITY is not set: not needed to back up (restore and verify need it)',
    })
  } else if (!identity.ok) {
    add({
      id: 'encryption.identity',
      title: 'Decryption key',
      status: 'fail',
      code: 'CONFIG_INVALID',
      detail: identity.error ?? 'BACKUP_AGE_IDENTITY cannot be read',
      fix: 'BACKUP_AGE_IDENTITY takes an AGE-SECRET-KEY-1… key or the path of a key file',
    })
  } else if (identity.matches === false) {
    add({
      id: 'encryption.identity',
      title: 'Decryption key',
      status: 'fail',
      code: 'DECRYPT_FAILED',
      detail:
        'the public key derived from BACKUP_AGE_IDENTITY is not among BACKUP_AGE_RECIPIENTS: archives written now could not be opened with this key',
      fix: "age-keygen -y <key file> prints the identity's public key: add it to BACKUP_AGE_RECIPIENTS (or use the matching identity)",
    })
  } else {
    add({
      id: 'encryption.identity',
      title: 'Decryption key',
      status: 'ok',
      detail:
        identity.matches === true
          ? 'the public key derived from BACKUP_AGE_IDENTITY is among BACKUP_AGE_RECIPIENTS (a backup runner itself needs only the public keys)'
          : 'BACKUP_AGE_IDENTITY reads as a valid key',
    })
  }
}

export function addAlertChecks(probes: DoctorProbes, add: (check: Check) => void): void {
  const s = probes.settings
  if (s.alertProblems.length > 0) {
    add({
      id: 'alerts.channels',
      title: 'Alerts',
      status: 'fail',
      code: 'CONFIG_INVALID',
      detail: s.alertProblems.join('; '),
      fix: 'correct the alert settings named (docs/alerts.md)',
    })
  } else if (s.alertChannels.length === 0) {
    add({
      id: 'alerts.channels',
      title: 'Alerts',
      status: 'warn',
      detail: 'no alert channel is configured: a failed nightly backup would go unnoticed',
      fix: 'set SLACK_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY, SMTP_URL + ONCALL_EMAIL and/or HEARTBEAT_URL (docs/alerts.md); test with npm run alert:test',
    })
  } else {
    add({
      id: 'alerts.channels',
      title: 'Alerts',
      status: 'ok',
      detail: `configured: ${s.alertChannels.join(', ')}`,
    })
  }
}

/** Each configured Storage endpoint: its buckets listed with its keys (never the secret shown). */
export function addStorageChecks(probes: DoctorProbes, add: (check: Check) => void): void {
  probes.settings.storage.forEach(({ role, setting, location }, i) => {
    const id = `storage.${role}`
    const title = role === 'source' ? 'Storage' : 'Storage (restore target)'
    const result = probes.storage?.[i]
    if (!result) {
      add({ id, title, status: 'skip', detail: 'not probed' })
      return
    }
    if (result.ok) {
      add({
        id,
        title,
        status: 'ok',
        detail: `${plural(result.buckets ?? 0, 'bucket')} listed at ${location} with ${setting}_ACCESS_KEY_ID`,
      })
      return
    }
    const code = (result.code as ErrorCode | undefined) ?? 'STORAGE_IO'
    add({
      id,
      title,
      status: 'fail',
      code,
      detail: `${location}: ${result.message ?? 'the buckets cannot be listed'}`,
      fix:
        code === 'STORAGE_AUTH'
          ? `${setting}_ACCESS_KEY_ID and ${setting}_SECRET_ACCESS_KEY must be a pair of this project's S3 access keys (dashboard: Storage → S3 → Access keys), ${setting}_REGION the region shown there`
          : `check ${setting}_URL (https://<ref>.supabase.co/storage/v1/s3), that the S3 connection is enabled (Storage → S3) and the network`,
    })
  })
}
