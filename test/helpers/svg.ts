// Checks an SVG file the way an image viewer needs it: well-formed XML (fast-xml-parser's
// validator, already installed with s3rver), an <svg> root in the SVG namespace with a
// viewBox, and the marks the chart promises, counted from the parsed tree.
import parser from 'fast-xml-parser'

export interface ParsedSvg {
  root: Record<string, unknown>
  /** How many elements of a tag carry a class, e.g. count('g', 'drill'). */
  count(tag: string, className: string): number
}

export function parseSvg(text: string): ParsedSvg {
  const valid = parser.validate(text)
  if (valid !== true) throw new Error(`not well-formed XML: ${JSON.stringify(valid.err)}`)
  // The validator accepts a bare `&`; XML does not.
  const bare = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.exec(text)
  if (bare) throw new Error(`unescaped & at ${bare.index}`)
  const tree = parser.parse(text, {
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    arrayMode: true,
  }) as Record<string, unknown[]>
  const keys = Object.keys(tree).filter((k) => !k.startsWith('?'))
  if (keys.length !== 1 || keys[0] !== 'svg') throw new Error(`root element is ${keys.join(', ')}, not svg`)
  const root = tree.svg![0] as Record<string, unknown>
  if (root['@_xmlns'] !== 'http://www.w3.org/2000/svg')
    throw new Error('the svg root lacks the SVG namespace')
  if (!/^0 0 \d+ \d+$/.test(String(root['@_viewBox']))) throw new Error('the svg root lacks a viewBox')
  return {
    root,
    count(tag, className) {
      let found = 0
      const visit = (node: unknown) => {
        if (Array.isArray(node)) return node.forEach(visit)
        if (typeof node !== 'object' || node === null) return
        for (const [key, value] of Object.entries(node)) {
          if (key === tag) {
            for (const element of value as Record<string, unknown>[]) {
              if (
                String(element['@_class'] ?? '')
                  .split(' ')
                  .includes(className)
              )
                found++
            }
          }
          if (!key.startsWith('@_')) visit(value)
        }
      }
      visit(root)
      return found
    },
  }
}
