// Repo invariants of the docs: every command block is run or says why not, every error
// code has its troubleshooting anchor, every `npm run` exists, every link resolves.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { transformMarkdown } from 'zx/cli'
import { type ErrorCode, errorCatalogue, LifeboatError } from '../../lib/core/errors.ts'
import { COMMANDS } from '../../lib/settings/commands.ts'
import { isCommandBlock, markdownFiles, readMarkdownFile } from '../helpers/doc-blocks.ts'

const root = resolve('.')
/** Where "every command a README or runbook shows" applies. */
const commandDocs = ['README.md', ...markdownFiles('runbooks'), ...markdownFiles('docs'), 'bench/README.md']
/** Where links and `npm run` names are checked. */
const allDocs = [...commandDocs]

const facts = new Map(allDocs.map((file) => [file, readMarkdownFile(file)]))
const factsOf = (file: string) => {
  const found = facts.get(file) ?? readMarkdownFile(file)
  facts.set(file, found)
  return found
}

describe('command blocks in README.md and runbooks/', () => {
  const blocks = commandDocs.flatMap((file) => factsOf(file).blocks.filter(isCommandBlock))

  it('finds the runbooks and their blocks', () => {
    expect(commandDocs).toContain('runbooks/README.md')
    expect(blocks.filter((b) => b.mode === 'tested').length).toBeGreaterThan(40)
  })

  it('marks every block tested, ci or manual; nothing escapes silently', () => {
    const unmarked = blocks
      .filter((b) => b.mode === 'unmarked')
      .map((b) => `${b.file}:${b.line} \`\`\`${b.language}`)
    expect(
      unmarked,
      'mark each as `sh tested`, or `sh manual` / `sh ci` with a reason comment above',
    ).toEqual([])
  })

  it('gives every manual and ci block its reason on the line above', () => {
    const missing = blocks
      .filter((b) => (b.mode === 'manual' || b.mode === 'ci') && !b.reason?.startsWith(`${b.mode}:`))
      .map((b) => `${b.file}:${b.line} (${b.mode}) needs <!-- ${b.mode}: why --> above it`)
    expect(missing).toEqual([])
  })

  it('runs tested blocks only in languages the session can run', () => {
    const odd = blocks
      .filter((b) => b.mode === 'tested' && !['sh', 'bash', 'sql'].includes(b.language))
      .map((b) => `${b.file}:${b.line} ${b.language}`)
    expect(odd).toEqual([])
  })

  it('covers each command of a ci block by .ci/run or by the docs test', () => {
    const ciScript = readFileSync('.ci/run', 'utf8')
    const byCiScript = ['npm ci', 'npm test']
    const byDocsTest = ['npm run demo']
    for (const command of byCiScript) expect(ciScript).toMatch(new RegExp(`^${command}\\b`, 'm'))
    const uncovered = blocks
      .filter((b) => b.mode === 'ci')
      .flatMap((b) => b.text.split(/&&|\n/).map((c) => ({ at: `${b.file}:${b.line}`, command: c.trim() })))
      .filter(({ command }) => command !== '' && ![...byCiScript, ...byDocsTest].includes(command))
      .map(({ at, command }) => `${at}: ${command}`)
    expect(uncovered).toEqual([])
  })
})

describe('runbooks as zx scripts (npx zx runbooks/<name>.md)', () => {
  const runbooks = markdownFiles('runbooks').filter((f) =>
    readMarkdownFile(f).blocks.some((b) => b.mode === 'tested'),
  )

  it.each(runbooks)('%s: zx runs only its js block; prose, manual and tested blocks are inert', (file) => {
    const module = transformMarkdown(readFileSync(file, 'utf8'))
    const code = module
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('// '))
      .join('\n')
    const name = file.replace(/^runbooks\//, '')
    expect(code).toBe(
      `const { load } = await import('../bin/load.js')\nawait (await load('runbook')).runRunbook(new URL('${name}', import.meta.url))`,
    )
    const check = spawnSync(process.execPath, ['--input-type=module', '--check'], { input: module })
    expect(check.status, check.stderr.toString()).toBe(0)
  })

  it('runs every runbook that has tested blocks', () => {
    expect(runbooks.length).toBeGreaterThanOrEqual(8)
  })
})

describe('troubleshooting runbook', () => {
  const troubleshooting = factsOf('runbooks/troubleshooting.md')
  const text = readFileSync('runbooks/troubleshooting.md', 'utf8')
  const codes = Object.keys(errorCatalogue) as ErrorCode[]

  it.each(codes)('has the anchor the tool prints for %s, right above its section', (code) => {
    const link = new LifeboatError(code, 'x').runbook
    const [file, anchor] = link.split('#')
    expect(file).toBe('runbooks/troubleshooting.md')
    expect(troubleshooting.anchors.has(anchor!)).toBe(true)
    expect(text).toMatch(new RegExp(`<a id="${anchor}"></a>\\s*\\n## ${code}\\n`))
  })

  it('has no section for a code the tool cannot print', () => {
    const sections = [...text.matchAll(/^## ([A-Z][A-Z0-9_]+)$/gm)].map((m) => m[1])
    expect(sections.filter((s) => !(s! in errorCatalogue))).toEqual([])
  })

  it('names only npm scripts that exist in the error hints', () => {
    const scripts = packageScripts()
    const named = Object.values(errorCatalogue).flatMap((k) =>
      [...k.hint.matchAll(NPM_RUN)].map((m) => m[1]!),
    )
    expect(named.filter((n) => !scripts.has(n))).toEqual([])
  })
})

const NPM_RUN = /npm run (?:--silent |-s )?([a-z][\w:.-]*)/g

function packageScripts(): Set<string> {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }
  return new Set(Object.keys(pkg.scripts))
}

describe('docs and runbooks', () => {
  it('name only npm scripts that exist in package.json', () => {
    const scripts = packageScripts()
    const unknown = allDocs.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          [...line.matchAll(NPM_RUN)].map((m) => ({ at: `${file}:${i + 1}`, name: m[1]! })),
        )
        .filter(({ name }) => !scripts.has(name))
        .map(({ at, name }) => `${at}: npm run ${name}`),
    )
    expect(unknown).toEqual([])
  })

  it('name scripts that run a lifeboat command, the command the registry calls by that script', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }
    const aliases = Object.entries(pkg.scripts).flatMap(([name, command]) => {
      const match = /^(?:[A-Z_]+=\S+ )*node (?:--[\w-]+(?:=\S+)? )*bin\/lifeboat\.js (\S+)$/.exec(command)
      return match ? [[name, match[1]!] as const] : []
    })
    expect(aliases.length).toBe(COMMANDS.length)
    const wrong = aliases
      .filter(([name, command]) => COMMANDS.find((c) => c.name === command)?.script !== name)
      .map(([name, command]) => `${name}: ${command}`)
    expect(wrong).toEqual([])
    expect(COMMANDS.filter((c) => !existsSync(`jobs/${c.name}.ts`)).map((c) => c.name)).toEqual([])
  })

  it('link every runbook from runbooks/README.md', () => {
    const linked = new Set(factsOf('runbooks/README.md').relativeLinks.map((l) => l.target.split('#')[0]))
    const runbooks = markdownFiles('runbooks')
      .map((f) => relative('runbooks', f))
      .filter((f) => f !== 'README.md')
    expect(runbooks.length).toBeGreaterThanOrEqual(8)
    expect(runbooks.filter((f) => !linked.has(f))).toEqual([])
  })

  it('have relative links that resolve to files, and anchors that exist', () => {
    const broken: string[] = []
    for (const file of allDocs) {
      for (const link of factsOf(file).relativeLinks) {
        const [path, anchor] = link.target.split('#') as [string, string | undefined]
        const target = path === '' ? file : relative(root, resolve(dirname(file), decodeURIComponent(path)))
        const at = `${file}:${link.line} → ${link.target}`
        if (!existsSync(target)) {
          broken.push(`${at} (no such file)`)
          continue
        }
        if (
          anchor &&
          target.endsWith('.md') &&
          statSync(target).isFile() &&
          !factsOf(target).anchors.has(anchor)
        ) {
          broken.push(`${at} (no such anchor)`)
        }
      }
    }
    expect(broken).toEqual([])
  })
})
