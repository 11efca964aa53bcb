// Reads the fenced command blocks, headings, anchors and links of Markdown files: the
// runbook runner executes the tested blocks, the docs tests check every block is run or
// marked. Conventions: docs/runbook-conventions.md.

/** Languages whose blocks are commands: each such block must be tested, ci or manual. */
export const COMMAND_LANGUAGES = ['sh', 'bash', 'shell', 'console', 'sql'] as const

export type BlockMode = 'tested' | 'manual' | 'ci' | 'unmarked'

export interface DocBlock {
  file: string
  /** 1-based line of the opening fence. */
  line: number
  /** First word of the info string, e.g. `sh`. */
  language: string
  /** The rest of the info string, e.g. `['tested']` or `['sql', 'tested', 'db=DATABASE_URL']`. */
  words: string[]
  mode: BlockMode
  /** The text of `<!-- manual: … -->` / `<!-- ci: … -->` on the last non-blank line before the fence. */
  reason?: string
  /** The nearest heading or numbered step (`3. **Verify it**`) above the block: its step. */
  step?: string
  text: string
}

export interface DocLink {
  line: number
  target: string
}

export interface MarkdownFacts {
  blocks: DocBlock[]
  /** Heading slugs as GitHub makes them, plus explicit `<a id="…">` / `<a name="…">` anchors. */
  anchors: Set<string>
  /** Inline links and images whose target is not an absolute URL or a mail address. */
  relativeLinks: DocLink[]
}

/** Parses fenced blocks (also indented inside list items), headings, anchors and links. */
export function readMarkdown(text: string, file: string): MarkdownFacts {
  const lines = text.split('\n')
  const blocks: DocBlock[] = []
  const anchors = new Set<string>()
  const relativeLinks: DocLink[] = []
  const slugCounts = new Map<string, number>()
  let step: string | undefined
  let index = 0
  while (index < lines.length) {
    const line = lines[index]!
    const fence = openingFence(line)
    if (fence) {
      const start = index
      const body: string[] = []
      index++
      while (index < lines.length && !closesFence(lines[index]!, fence)) {
        body.push(stripIndent(lines[index]!, fence.indent))
        index++
      }
      index++
      const [language = '', ...words] = fence.info.split(/\s+/).filter(Boolean)
      const reason = markerBefore(lines, start)
      blocks.push({
        file,
        line: start + 1,
        language: language.toLowerCase(),
        words,
        mode: modeOf(words),
        ...(reason ? { reason } : {}),
        ...(step ? { step } : {}),
        text: `${body.join('\n')}\n`,
      })
      continue
    }
    const headingMatch = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    const numbered = /^(\d+)\.\s+(.*)$/.exec(line)
    if (numbered) step = stepTitle(numbered[1]!, numbered[2]!)
    if (headingMatch) {
      step = headingMatch[1]!.replace(/\*\*|`/g, '')
      const base = githubSlug(headingMatch[1]!)
      const seen = slugCounts.get(base) ?? 0
      slugCounts.set(base, seen + 1)
      anchors.add(seen === 0 ? base : `${base}-${seen}`)
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]!)
    for (const match of withoutCodeSpans(line).matchAll(
      /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g,
    )) {
      const target = match[1]!
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) relativeLinks.push({ line: index + 1, target })
    }
    index++
  }
  return { blocks, anchors, relativeLinks }
}

/** `3. **Verify it** (streams …)` → `3. Verify it`: the bold lead, else the first words. */
function stepTitle(number: string, text: string): string {
  const bold = /^\*\*(.+?)\*\*/.exec(text)?.[1]
  const title = (bold ?? text).replace(/[`*]/g, '').replace(/[.:]\s*$/, '')
  return `${number}. ${title.length > 70 ? `${title.slice(0, 69)}…` : title}`
}

/** GitHub's heading slug: lower case, punctuation dropped, spaces to `-`; `_` and `-` stay. */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/<[^>]+>/g, '')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')
}

interface Fence {
  indent: number
  marker: string
  info: string
}

function openingFence(line: string): Fence | undefined {
  // Also fences indented as list-item content (up to 8 spaces: "10.  " plus three).
  const match = /^( {0,8})(`{3,}|~{3,})(.*)$/.exec(line)
  if (!match) return undefined
  const info = match[3]!.trim()
  if (match[2]!.startsWith('`') && info.includes('`')) return undefined
  return { indent: match[1]!.length, marker: match[2]!, info }
}

function closesFence(line: string, fence: Fence): boolean {
  const match = /^( *)(`{3,}|~{3,})\s*$/.exec(line)
  return (
    match !== null &&
    match[1]!.length <= fence.indent + 3 &&
    match[2]![0] === fence.marker[0] &&
    match[2]!.length >= fence.marker.length
  )
}

function stripIndent(line: string, indent: number): string {
  let cut = 0
  while (cut < indent && line[cut] === ' ') cut++
  return line.slice(cut)
}

function modeOf(words: readonly string[]): BlockMode {
  for (const mode of ['tested', 'manual', 'ci'] as const) if (words.includes(mode)) return mode
  return 'unmarked'
}

/** `<!-- manual: reason -->` or `<!-- ci: reason -->` on the nearest non-blank line above. */
function markerBefore(lines: readonly string[], fenceIndex: number): string | undefined {
  for (let i = fenceIndex - 1; i >= 0; i--) {
    const line = lines[i]!.trim()
    if (line === '') continue
    const match = /^<!--\s*(manual|ci):\s*(.+?)\s*-->$/.exec(line)
    return match ? `${match[1]}: ${match[2]}` : undefined
  }
  return undefined
}

function withoutCodeSpans(line: string): string {
  return line.replace(/`+[^`]*`+/g, '')
}

export function isCommandBlock(block: DocBlock): boolean {
  return (COMMAND_LANGUAGES as readonly string[]).includes(block.language)
}

/** Where a `sql tested` block runs: `db=NAME` names the variable holding the URL. */
export function sqlDatabaseVariable(block: DocBlock): string {
  const word = block.words.find((w) => w.startsWith('db='))
  return word ? word.slice(3) : 'TARGET_DATABASE_URL'
}

function uniqueDelimiter(text: string): string {
  let delimiter = 'LIFEBOAT_SQL'
  while (text.includes(delimiter)) delimiter += '_'
  return delimiter
}

export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}

/** The shell command running a sql block through psql, as a person would paste it. */
export function psqlCommand(block: DocBlock): string {
  const delimiter = uniqueDelimiter(block.text)
  return `psql -X -v ON_ERROR_STOP=1 "$${sqlDatabaseVariable(block)}" <<'${delimiter}'\n${block.text}${delimiter}`
}
