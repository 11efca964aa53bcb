// Freshness against the RPO with a fixed clock, and the settings that shape it.
import { describe, expect, it } from 'vitest'
import { SettingsReader } from '../../lib/core/config.ts'
import { checkFreshness, formatHours, readFreshnessSettings, readNow } from '../../lib/monitor/freshness.ts'

const NOW = new Date('2026-11-26T03:00:00Z')
const options = { now: NOW, rpoHours: 24, graceMinutes: 60 }
const newestAt = (iso: string) => ({ id: 'backup-x', time: new Date(iso) })

describe('checkFreshness', () => {
  it('passes a backup 1 h old and one exactly at RPO + grace', () => {
    expect(checkFreshness(newestAt('2026-11-26T02:00:00Z'), options)).toMatchObject({ ok: true, ageHours: 1 })
    const edge = checkFreshness(newestAt('2026-11-25T02:00:00Z'), options)
    expect(edge).toMatchObject({ ok: true, ageHours: 25, limitHours: 25 })
  })

  it('fails a backup one second past RPO + grace, naming it, its age and the limit', () => {
    const stale = checkFreshness(newestAt('2026-11-25T01:59:59Z'), options)
    expect(stale.ok).toBe(false)
    expect(stale.message).toBe(
      'the newest complete backup backup-x is 25.0 h old, more than the RPO of 24 h + 60 min grace',
    )
  })

  it('fails a store with no complete backup', () => {
    expect(checkFreshness(undefined, options)).toMatchObject({ ok: false, limitHours: 25 })
    expect(checkFreshness(undefined, options).message).toMatch(/no complete backup/)
  })

  it('honours other RPOs and grace periods', () => {
    const hourly = { now: NOW, rpoHours: 1, graceMinutes: 15 }
    expect(checkFreshness(newestAt('2026-11-26T01:46:00Z'), hourly).ok).toBe(true)
    expect(checkFreshness(newestAt('2026-11-26T01:44:00Z'), hourly).ok).toBe(false)
  })

  it('a negative age is an alert, not fresh: the newest backup is dated in the future', () => {
    const result = checkFreshness(newestAt('2026-11-26T04:00:00Z'), options)
    expect(result.ok).toBe(false)
    expect(result.message).toContain('in the future')
  })

  it('a few minutes ahead is within the clock tolerance and still fresh', () => {
    const now = options.now.getTime()
    expect(checkFreshness({ id: 'b', time: new Date(now + 2 * 60_000) }, options).ok).toBe(true)
  })

  it('speaks in days when the schedule stalled long ago', () => {
    expect(checkFreshness(newestAt('2026-10-17T03:00:00Z'), options).message).toContain('40.0 days old')
  })
})

describe('formatHours', () => {
  it('uses minutes, hours or days', () => {
    expect(formatHours(0.5)).toBe('30 min')
    expect(formatHours(24)).toBe('24 h')
    expect(formatHours(26.25)).toBe('26.3 h')
    expect(formatHours(72)).toBe('3.0 days')
  })
})

describe('readFreshnessSettings and readNow', () => {
  it('defaults to 24 h and 60 min', () => {
    const reader = new SettingsReader({})
    expect(readFreshnessSettings(reader)).toEqual({ rpoHours: 24, graceMinutes: 60 })
    reader.finish()
  })

  it('reads RPO_HOURS and RPO_GRACE_MINUTES, flags first', () => {
    const reader = new SettingsReader({ RPO_HOURS: '12', RPO_GRACE_MINUTES: '30' }, { 'rpo-hours': '6' })
    expect(readFreshnessSettings(reader)).toEqual({ rpoHours: 6, graceMinutes: 30 })
  })

  it('refuses a zero or non-numeric RPO', () => {
    const zero = new SettingsReader({ RPO_HOURS: '0' })
    readFreshnessSettings(zero)
    expect(() => zero.finish()).toThrow(/RPO_HOURS must be more than 0/)
    const words = new SettingsReader({ RPO_GRACE_MINUTES: 'an hour' })
    readFreshnessSettings(words)
    expect(() => words.finish()).toThrow(/RPO_GRACE_MINUTES/)
  })

  it('takes LIFEBOAT_NOW as the clock, and refuses what is not an ISO time', () => {
    const clock = () => NOW
    expect(readNow(new SettingsReader({}), clock)).toBe(NOW)
    expect(readNow(new SettingsReader({ LIFEBOAT_NOW: '2027-01-01T00:00:00Z' }), clock).toISOString()).toBe(
      '2027-01-01T00:00:00.000Z',
    )
    const bad = new SettingsReader({ LIFEBOAT_NOW: 'tomorrow' })
    readNow(bad, clock)
    expect(() => bad.finish()).toThrow(/LIFEBOAT_NOW must be an ISO 8601 time/)
  })
})
