// Loads GitHub's workflow parser (@actions/workflow-parser) in tests. Its ESM build imports
// its schema JSON without `with { type: 'json' }`, which Node refuses when vitest leaves the
// package to Node's own loader; a load hook adds the attribute for that one file.
import { register } from 'node:module'

const hooks = `
export async function load(url, context, next) {
  if (url.includes('/@actions/workflow-parser/') && url.endsWith('.json') && !context.importAttributes?.type) {
    return next(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } })
  }
  return next(url, context)
}
`
register(`data:text/javascript,${encodeURIComponent(hooks)}`)

export const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import(
  '@actions/workflow-parser'
)
