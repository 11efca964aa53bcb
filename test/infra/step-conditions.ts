// Whether a step runs, decided as the GitHub runner decides it: the step's `if` evaluated by
// GitHub's own expression engine (@actions/expressions, which the workflow parser uses), with
// the status functions answering for the job's state so far. A step timeout fails the step
// (`failure()`); a cancellation or a job timeout cancels the job (`cancelled()`, and then
// `failure()` is false: why `if: failure()` alone never alerted on a timeout).
import { data, Evaluator, Lexer, Parser } from '@actions/expressions'

export type JobState = 'success' | 'failure' | 'cancelled'

const STATUS_FUNCTIONS = ['success', 'failure', 'cancelled', 'always']

export function stepRuns(
  condition: string | undefined,
  state: JobState,
  steps: Record<string, string> = {},
): boolean {
  const raw = (condition ?? '').replace(/^\$\{\{\s*|\s*\}\}$/g, '').trim()
  // Without a status function GitHub adds `success() &&` in front.
  const expression =
    raw === ''
      ? 'success()'
      : STATUS_FUNCTIONS.some((f) => raw.includes(`${f}(`))
        ? raw
        : `success() && (${raw})`
  const functions = new Map(
    STATUS_FUNCTIONS.map((name) => [
      name,
      {
        name,
        minArgs: 0,
        maxArgs: 0,
        call: () =>
          new data.BooleanData(
            name === 'always' ? true : name === 'success' ? state === 'success' : state === name,
          ),
      },
    ]),
  )
  const lexed = new Lexer(expression).lex()
  const parsed = new Parser(lexed.tokens, ['steps'], [...functions.values()]).parse()
  const context = new data.Dictionary()
  const stepsContext = new data.Dictionary()
  for (const [id, outcome] of Object.entries(steps)) {
    const step = new data.Dictionary()
    step.add('outcome', new data.StringData(outcome))
    stepsContext.add(id, step)
  }
  context.add('steps', stepsContext)
  const result = new Evaluator(parsed, context, functions).evaluate() as unknown as { value?: unknown }
  // GitHub's truthiness: false, null, 0, '' and NaN are false.
  return Boolean(result.value)
}

/**
 * A workflow value as the runner computes it: every `${{ … }}` evaluated by GitHub's expression
 * engine over the given contexts (`inputs`, `vars`, …); a missing property is ''.
 */
export function evaluateValue(template: string, contexts: Record<string, Record<string, string>>): string {
  return template.replace(/\$\{\{\s*([\s\S]*?)\s*\}\}/g, (_, inner: string) => {
    const value = evaluateExpression(inner, contexts)
    return value === null || value === undefined ? '' : String(value)
  })
}

/** An `if:` (without status functions) over the given contexts, with GitHub's truthiness. */
export function conditionHolds(condition: string, contexts: Record<string, Record<string, string>>): boolean {
  return Boolean(evaluateExpression(condition.replace(/^\$\{\{\s*|\s*\}\}$/g, ''), contexts))
}

function evaluateExpression(expression: string, contexts: Record<string, Record<string, string>>): unknown {
  const lexed = new Lexer(expression).lex()
  const parsed = new Parser(lexed.tokens, Object.keys(contexts), []).parse()
  const context = new data.Dictionary()
  for (const [name, values] of Object.entries(contexts)) {
    const dictionary = new data.Dictionary()
    for (const [key, value] of Object.entries(values)) dictionary.add(key, new data.StringData(value))
    context.add(name, dictionary)
  }
  return (new Evaluator(parsed, context, new Map()).evaluate() as unknown as { value?: unknown }).value
}
