// The escalation rules as sequences of outcomes: who hears about what, and when on-call is paged.
import { describe, expect, it } from 'vitest'
import {
  type AlertAction,
  combineHistories,
  decideAlerts,
  dedupKeyFor,
  type FailureHistory,
  historyAfterDelivery,
  NO_FAILURES,
  PAGE_AFTER_FAILURES,
  severityFor,
  toneOf,
} from '../../lib/alerts/escalation.ts'
import type { JobName, OutcomeStatus } from '../../lib/alerts/outcome.ts'

type Step = OutcomeStatus | 'success+warnings'

function outcome(step: Step, job: JobName = 'backup', environment = 'production') {
  if (step === 'success+warnings')
    return { job, environment, status: 'success' as const, warnings: ['rows dropped 90%'] }
  return { job, environment, status: step, warnings: step === 'warning' ? ['RTO exceeded'] : [] }
}

/** Runs a sequence through decideAlerts, as consecutive runs would. */
function play(steps: Step[], start: FailureHistory = NO_FAILURES, job: JobName = 'backup') {
  let history = start
  return steps.map((step) => {
    const decision = decideAlerts(outcome(step, job), history)
    history = decision.next
    return decision
  })
}

const types = (actions: AlertAction[]) =>
  actions.map((a) => (a.type === 'slack' ? `slack:${a.tone}` : a.type))

describe('decideAlerts', () => {
  it('fail, fail, fail, success, success: e-mail every failure, page from the second, resolve once', () => {
    const runs = play(['failure', 'failure', 'failure', 'success', 'success'])
    expect(runs.map((r) => types(r.actions))).toEqual([
      ['slack:failure', 'email'],
      ['slack:failure', 'email', 'page-trigger'],
      ['slack:failure', 'email', 'page-trigger'],
      ['slack:success', 'heartbeat', 'page-resolve'],
      ['slack:success', 'heartbeat'],
    ])
    expect(runs.map((r) => r.next)).toEqual([
      { consecutiveFailures: 1, pageOpen: false },
      { consecutiveFailures: 2, pageOpen: true },
      { consecutiveFailures: 3, pageOpen: true },
      { consecutiveFailures: 0, pageOpen: false },
      { consecutiveFailures: 0, pageOpen: false },
    ])
  })

  it('triggers and resolves with the same dedup key per job and environment', () => {
    const [, second, , success] = play(['failure', 'failure', 'failure', 'success'])
    const trigger = second!.actions.find((a) => a.type === 'page-trigger')
    const resolve = success!.actions.find((a) => a.type === 'page-resolve')
    expect(trigger).toEqual({
      type: 'page-trigger',
      dedupKey: 'lifeboat/backup/production',
      severity: 'critical',
    })
    expect(resolve).toEqual({ type: 'page-resolve', dedupKey: 'lifeboat/backup/production' })
  })

  it('a single failure between successes never pages and needs no resolve', () => {
    const runs = play(['success', 'failure', 'success', 'failure', 'success'])
    expect(runs.flatMap((r) => types(r.actions)).filter((t) => t.startsWith('page'))).toEqual([])
    expect(runs[1]!.next).toEqual({ consecutiveFailures: 1, pageOpen: false })
  })

  it('warnings are a success with warnings: Slack warning, heartbeat, no e-mail, no page', () => {
    for (const step of ['warning', 'success+warnings'] as const) {
      const [decision] = play([step])
      expect(types(decision!.actions)).toEqual(['slack:warning', 'heartbeat'])
      expect(decision!.next).toEqual(NO_FAILURES)
    }
  })

  it('a warning ends a failure streak and resolves the open page', () => {
    const runs = play(['failure', 'failure', 'warning', 'failure'])
    expect(types(runs[2]!.actions)).toEqual(['slack:warning', 'heartbeat', 'page-resolve'])
    expect(types(runs[3]!.actions)).toEqual(['slack:failure', 'email'])
  })

  it('continues a streak it learns about from history (e.g. the GitHub API after an unreachable store)', () => {
    const decision = decideAlerts(outcome('failure'), { consecutiveFailures: 4, pageOpen: false })
    expect(types(decision.actions)).toEqual(['slack:failure', 'email', 'page-trigger'])
    expect(decision.next).toEqual({ consecutiveFailures: 5, pageOpen: true })
  })

  it('resolves after a streak at the threshold even when the record of the page was lost', () => {
    const decision = decideAlerts(outcome('success'), {
      consecutiveFailures: PAGE_AFTER_FAILURES,
      pageOpen: false,
    })
    expect(types(decision.actions)).toContain('page-resolve')
  })

  it('resolves a page that is open whatever the count says', () => {
    const decision = decideAlerts(outcome('success'), { consecutiveFailures: 0, pageOpen: true })
    expect(types(decision.actions)).toContain('page-resolve')
  })

  it('treats a negative count from a damaged record as zero', () => {
    expect(
      decideAlerts(outcome('failure'), { consecutiveFailures: -3, pageOpen: false }).next.consecutiveFailures,
    ).toBe(1)
  })

  it('keeps jobs and environments apart in the dedup key', () => {
    expect(dedupKeyFor('backup', 'production')).toBe('lifeboat/backup/production')
    expect(dedupKeyFor('dr-test', 'staging')).toBe('lifeboat/dr-test/staging')
    const decision = decideAlerts(outcome('failure', 'verify', 'staging'), {
      consecutiveFailures: 1,
      pageOpen: false,
    })
    expect(decision.actions).toContainEqual({
      type: 'page-trigger',
      dedupKey: 'lifeboat/verify/staging',
      severity: 'error',
    })
  })

  it('pages critical for jobs that guard the data, error for the rest', () => {
    expect(severityFor('backup')).toBe('critical')
    expect(severityFor('monitor')).toBe('critical')
    expect(severityFor('restore')).toBe('critical')
    expect(severityFor('clean')).toBe('error')
    expect(severityFor('drill')).toBe('error')
    expect(severityFor('dr-test')).toBe('error')
  })

  it('every job reports through the same rules', () => {
    for (const job of ['backup', 'verify', 'clean', 'monitor', 'drill', 'dr-test'] as const) {
      const runs = play(['failure', 'failure', 'success'], NO_FAILURES, job)
      expect(runs.map((r) => types(r.actions))).toEqual([
        ['slack:failure', 'email'],
        ['slack:failure', 'email', 'page-trigger'],
        ['slack:success', 'heartbeat', 'page-resolve'],
      ])
    }
  })

  it('names the tone from status and warnings', () => {
    expect(toneOf({ status: 'failure', warnings: ['x'] })).toBe('failure')
    expect(toneOf({ status: 'success', warnings: [] })).toBe('success')
    expect(toneOf({ status: 'success', warnings: ['x'] })).toBe('warning')
    expect(toneOf({ status: 'warning', warnings: [] })).toBe('warning')
  })
})

describe('combineHistories', () => {
  const at = (iso: string, consecutiveFailures: number, pageOpen = false) => ({
    updatedAt: iso,
    consecutiveFailures,
    pageOpen,
  })

  it('starts from nothing when no source knows anything', () => {
    expect(combineHistories([])).toEqual(NO_FAILURES)
  })

  it('takes the most recently written saved record, not the larger count', () => {
    // The store says 2 (written before a success it could not record); the local file saw the success.
    const store = at('2026-11-24T02:00:00Z', 2, true)
    const local = at('2026-11-25T02:00:00Z', 0)
    expect(combineHistories([store, local])).toEqual(NO_FAILURES)
    expect(combineHistories([local, store])).toEqual(NO_FAILURES)
  })

  it('uses the GitHub count as a floor, since it needs neither store nor disk', () => {
    expect(combineHistories([at('2026-11-25T02:00:00Z', 0)], 1)).toEqual({
      consecutiveFailures: 1,
      pageOpen: false,
    })
    expect(combineHistories([], 2)).toEqual({ consecutiveFailures: 2, pageOpen: true })
    expect(combineHistories([at('2026-11-25T02:00:00Z', 3, true)], 1)).toEqual({
      consecutiveFailures: 3,
      pageOpen: true,
    })
  })
})

describe('historyAfterDelivery', () => {
  const streak = { consecutiveFailures: 3, pageOpen: true }
  const success = decideAlerts(outcome('success'), streak)

  it('keeps the page open when its resolve did not reach PagerDuty, so the next success sends it again', () => {
    const saved = historyAfterDelivery(success.next, success.actions, [
      { status: 'sent' },
      { status: 'sent' },
      { status: 'failed' },
    ])
    expect(saved).toEqual({ consecutiveFailures: 0, pageOpen: true })
    expect(types(decideAlerts(outcome('success'), saved).actions)).toContain('page-resolve')
  })

  it('closes the page once the resolve was sent', () => {
    const delivered = success.actions.map(() => ({ status: 'sent' as const }))
    expect(historyAfterDelivery(success.next, success.actions, delivered)).toEqual(NO_FAILURES)
  })

  it('closes it when PagerDuty is not configured (the resolve skipped) or only Slack failed', () => {
    expect(
      historyAfterDelivery(success.next, success.actions, [
        { status: 'failed' },
        { status: 'sent' },
        { status: 'skipped' },
      ]),
    ).toEqual(NO_FAILURES)
  })
})
