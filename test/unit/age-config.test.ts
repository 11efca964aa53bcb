import { describe, expect, it } from 'vitest'
import {
  classifyIdentity,
  isAgeIdentity,
  parseAgeIdentityText,
  parseAgeRecipients,
  readAgeIdentity,
  readAgeRecipients,
} from '../../lib/core/age-config.ts'
import { SettingsReader } from '../../lib/core/config.ts'
import type { LifeboatError } from '../../lib/core/errors.ts'

// The examples from the age specification (C2SP age.md), and keys from age-keygen.
const SPEC_IDENTITY = 'AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX'
const SPEC_RECIPIENT = 'age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj'
const OTHER_RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'

function problemsOf(run: (reader: SettingsReader) => unknown, env: Record<string, string>): LifeboatError {
  const reader = new SettingsReader(env)
  run(reader)
  try {
    reader.finish()
  } catch (error) {
    return error as LifeboatError
  }
  throw new Error('expected configuration problems')
}

describe('parseAgeRecipients', () => {
  it('splits on commas and any whitespace, dropping duplicates', () => {
    const raw = ` ${SPEC_RECIPIENT},${OTHER_RECIPIENT}\n  ${SPEC_RECIPIENT.toUpperCase()} `
    expect(parseAgeRecipients(raw)).toEqual({ recipients: [SPEC_RECIPIENT, OTHER_RECIPIENT], problems: [] })
  })

  it('rejects a mistyped key by its Bech32 checksum, naming the entry but not the value', () => {
    const typo = `${SPEC_RECIPIENT.slice(0, 20)}x${SPEC_RECIPIENT.slice(21)}`
    const { recipients, problems } = parseAgeRecipients(`${SPEC_RECIPIENT} ${typo}`)
    expect(recipients).toEqual([SPEC_RECIPIENT])
    expect(problems).toEqual(['entry 2 is not a valid age public key (age1…)'])
  })

  it('refuses a private key given as a recipient, without echoing it', () => {
    const { problems } = parseAgeRecipients(SPEC_IDENTITY)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/private key/)
    expect(problems.join()).not.toContain(SPEC_IDENTITY.slice(16))
  })

  it('refuses SSH keys, other Bech32 strings and empty values', () => {
    expect(parseAgeRecipients('ssh-ed25519 AAAAC3Nza').problems[0]).toMatch(/SSH/)
    expect(parseAgeRecipients('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4').problems[0]).toMatch(
      /not a valid/,
    )
    expect(parseAgeRecipients(' , ').problems).toEqual(['is empty: give one or more age1… public keys'])
  })
})

describe('parseAgeIdentityText', () => {
  it('reads an age-keygen file: comments and blank lines ignored', () => {
    const file = `# created: 2026-01-01T00:00:00Z\n# public key: ${SPEC_RECIPIENT}\n${SPEC_IDENTITY}\n\n`
    expect(parseAgeIdentityText(file)).toEqual({ keys: [SPEC_IDENTITY], problems: [] })
  })

  it('accepts a lower-case key, as Bech32 allows, and returns it upper-cased', () => {
    expect(parseAgeIdentityText(SPEC_IDENTITY.toLowerCase()).keys).toEqual([SPEC_IDENTITY])
  })

  it('names the bad line and never the key', () => {
    const broken = `${SPEC_IDENTITY.slice(0, -1)}Q`
    const { keys, problems } = parseAgeIdentityText(`# a comment\n${broken}\n${SPEC_RECIPIENT}\n`)
    expect(keys).toEqual([])
    expect(problems).toEqual([
      'line 2 is not a valid age private key (AGE-SECRET-KEY-1…)',
      'line 3 is a public key (age1…); it needs the private key (AGE-SECRET-KEY-1…)',
    ])
  })

  it('explains encrypted key files and files without keys', () => {
    expect(parseAgeIdentityText('age-encryption.org/v1\n-> scrypt x 18\n').problems[0]).toMatch(
      /encrypted key file/,
    )
    expect(parseAgeIdentityText('# only comments\n').problems).toEqual([
      'holds no age private key (AGE-SECRET-KEY-1…)',
    ])
  })

  it('checks identities by checksum', () => {
    expect(isAgeIdentity(SPEC_IDENTITY)).toBe(true)
    expect(isAgeIdentity(SPEC_IDENTITY.replace('GFPQ4', 'GFPQ5'))).toBe(false)
    expect(isAgeIdentity(SPEC_RECIPIENT)).toBe(false)
  })
})

describe('classifyIdentity', () => {
  it('treats key text as inline and anything else as a path', () => {
    const inline = classifyIdentity(`  ${SPEC_IDENTITY}\n`)
    expect(inline.kind).toBe('inline')
    expect(String(inline.kind === 'inline' && inline.text)).toBe('**redacted**')
    expect(classifyIdentity('/run/secrets/age-key.txt')).toEqual({
      kind: 'file',
      path: '/run/secrets/age-key.txt',
    })
  })
})

describe('readAgeRecipients / readAgeIdentity', () => {
  it('returns nothing when unset: encryption is optional', () => {
    const reader = new SettingsReader({})
    expect(readAgeRecipients(reader)).toEqual([])
    expect(readAgeIdentity(reader)).toBeUndefined()
    expect(() => reader.finish()).not.toThrow()
  })

  it('reports every bad recipient at once as CONFIG_INVALID', () => {
    const error = problemsOf(readAgeRecipients, { BACKUP_AGE_RECIPIENTS: `age1nope, ${SPEC_IDENTITY}` })
    expect(error.code).toBe('CONFIG_INVALID')
    expect(error.details).toHaveLength(2)
    expect(error.message).toMatch(/^BACKUP_AGE_RECIPIENTS entry 1 /)
    expect(error.message).not.toContain(SPEC_IDENTITY.slice(16))
  })

  it('checks an inline identity and never prints it', () => {
    const bad = `${SPEC_IDENTITY.slice(0, -2)}AA`
    const error = problemsOf(readAgeIdentity, { BACKUP_AGE_IDENTITY: bad })
    expect(error.code).toBe('CONFIG_INVALID')
    expect(error.message).toBe('BACKUP_AGE_IDENTITY value is not a valid age private key (AGE-SECRET-KEY-1…)')
  })

  it('takes --identity over the environment', () => {
    const reader = new SettingsReader({ BACKUP_AGE_IDENTITY: SPEC_IDENTITY }, { identity: './key.txt' })
    expect(readAgeIdentity(reader)).toEqual({ kind: 'file', path: './key.txt' })
  })
})
