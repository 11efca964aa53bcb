// How the npm scripts start Lifeboat's jobs (`[VAR=value …] node <flags> bin/lifeboat.js
// <job>`): what a test or a benchmark must start the same way to measure what users run.
import { readFileSync } from 'node:fs'

/** The environment and node flags the npm script `name` starts `bin/lifeboat.js` with. */
export function npmScriptStart(name: string): { env: Record<string, string>; flags: string[] } {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }
  const words = (pkg.scripts[name] ?? '').split(' ')
  const node = words.indexOf('node')
  const launcher = words.indexOf('bin/lifeboat.js')
  if (node === -1 || launcher < node)
    throw new Error(`npm script ${name} does not start bin/lifeboat.js with node`)
  return {
    env: Object.fromEntries(
      words.slice(0, node).map((word) => word.split(/=(.*)/s).slice(0, 2) as [string, string]),
    ),
    flags: words.slice(node + 1, launcher),
  }
}
