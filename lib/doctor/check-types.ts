// What the doctor's probes found and what its checks say, as data: probe results in
// (gathered by lib/doctor/probes.ts), checklist items `{ id, title, status, detail, fix? }`
// out. Pure: types only.
import type { DoctorSettings } from '../core/doctor-config.ts'
import type { ErrorCode } from '../core/errors.ts'

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip'

export interface Check {
  id: string
  title: string
  status: CheckStatus
  detail: string
  fix?: string
  /** The error a failure would surface as in the backup job. */
  code?: ErrorCode
}

/** A check's finding, before it is named: what a check function returns. */
export type Finding = Omit<Check, 'id' | 'title'>

export interface OpResult {
  ok: boolean
  /** The catalogue code of the failure (STORE_FORBIDDEN…). */
  code?: string
  message?: string
}

export interface TableProbe {
  name: string
  canSelect: boolean
  rls: boolean
  forced: boolean
  owned: boolean
  /** A `SELECT … LIMIT 0` with row_security = off, as the export reads. */
  readable: 'ok' | 'permission' | 'rls' | 'error'
  error?: string
}

export interface DoctorProbes {
  settings: DoctorSettings
  dns?: { v4: string[]; v6: string[]; error?: string }
  tcp?: { address: string; family: 4 | 6; ok: boolean; error?: string }[]
  login?:
    | {
        ok: true
        user: string
        serverVersion: string
        serverVersionNum: number
        superuser: boolean
        bypassRls: boolean
      }
    | { ok: false; code: string; sqlstate?: string; message: string }
  pgDump?: { version: string; major: number; path: string } | { missing: string }
  timeouts?: { name: string; value: string; overridden: boolean }[]
  tables?: TableProbe[]
  store?: {
    location: string
    probeKey: string
    list?: OpResult
    put?: OpResult
    get?: OpResult & { matches?: boolean }
    delete?: OpResult
  }
  identity?: { ok: boolean; matches?: boolean; error?: string }
  api?: { ok: true; tables: number; schemas: string[] } | { ok: false; code: string; message: string }
  authApi?: OpResult
  /** Listing the buckets of each configured Storage endpoint, in the order of `settings.storage`. */
  storage?: (OpResult & { buckets?: number })[]
}
