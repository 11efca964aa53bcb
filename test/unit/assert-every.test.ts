import { describe, expect, it } from 'vitest'
import { LifeboatError } from '../../lib/core/errors.ts'
import { assertEvery } from '../../lib/restore/target-checks.ts'

const refuse = (code: 'TARGET_NOT_EMPTY' | 'SCHEMA_MISMATCH', message: string) => () => {
  throw new LifeboatError(code, message, { details: [message] })
}

describe('assertEvery', () => {
  it('passes when every check passes', async () => {
    await expect(assertEvery([() => undefined, async () => undefined])).resolves.toBeUndefined()
  })

  it('throws a single problem as it is', async () => {
    const error = await assertEvery([
      () => undefined,
      refuse('SCHEMA_MISMATCH', 'a.t: column x missing'),
    ]).catch((e: unknown) => e as LifeboatError)
    expect(error).toMatchObject({ code: 'SCHEMA_MISMATCH', message: 'a.t: column x missing' })
  })

  it('names every problem, the first one deciding the code', async () => {
    const error = await assertEvery([
      refuse('TARGET_NOT_EMPTY', 'public.a holds rows'),
      () => undefined,
      refuse('SCHEMA_MISMATCH', 'public.b: column y missing'),
    ]).then(
      () => undefined,
      (e: unknown) => e as LifeboatError,
    )
    expect(error?.code).toBe('TARGET_NOT_EMPTY')
    expect(error?.message).toBe('public.a holds rows; also SCHEMA_MISMATCH: public.b: column y missing')
    expect(error?.details).toEqual(['public.a holds rows', 'public.b: column y missing'])
  })

  it('lets an unexpected error through at once', async () => {
    await expect(
      assertEvery([() => Promise.reject(new TypeError('bug')), refuse('SCHEMA_MISMATCH', 'x')]),
    ).rejects.toThrow(TypeError)
  })
})
