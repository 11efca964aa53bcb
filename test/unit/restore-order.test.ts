import { describe, expect, it } from 'vitest'
import { planRestoreOrder } from '../../lib/archive/restore-order.ts'

describe('planRestoreOrder', () => {
  it('puts referenced tables before the tables that reference them', () => {
    const plan = planRestoreOrder([
      { name: 'public.messages', references: ['public.conversations', 'public.users'] },
      { name: 'public.conversations', references: ['public.users'] },
      { name: 'public.users', references: [] },
    ])
    expect(plan.order).toEqual(['public.users', 'public.conversations', 'public.messages'])
    expect(plan.cycles).toEqual([])
  })

  it('keeps independent tables in name order', () => {
    const plan = planRestoreOrder([
      { name: 'b', references: [] },
      { name: 'a', references: [] },
    ])
    expect(plan.order).toEqual(['a', 'b'])
  })

  it('reports a self-reference as a cycle of one and still orders it', () => {
    const plan = planRestoreOrder([
      { name: 'employees', references: ['employees', 'departments'] },
      { name: 'departments', references: [] },
    ])
    expect(plan.order).toEqual(['departments', 'employees'])
    expect(plan.cycles).toEqual([['employees']])
  })

  it('keeps a two-table cycle together after its own parents', () => {
    const plan = planRestoreOrder([
      { name: 'a', references: ['b', 'root'] },
      { name: 'b', references: ['a'] },
      { name: 'c', references: ['a'] },
      { name: 'root', references: [] },
    ])
    expect(plan.order).toEqual(['root', 'a', 'b', 'c'])
    expect(plan.cycles).toEqual([['a', 'b']])
  })

  it('ignores references to tables outside the set', () => {
    const plan = planRestoreOrder([{ name: 'a', references: ['elsewhere'] }])
    expect(plan.order).toEqual(['a'])
  })
})
