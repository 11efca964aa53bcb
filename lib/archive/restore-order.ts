// Restore order: referenced tables before the tables that reference them.
// Cycles (A -> B -> A) and self-references cannot be ordered; their members stay
// together, in name order, and the loader relies on deferred checks for them. Pure.

export interface TableRef {
  name: string
  /** Names of the tables this one references (its foreign-key parents). */
  references: readonly string[]
}

export interface RestorePlan {
  order: string[]
  /** Groups of tables that reference each other (size > 1) or themselves. */
  cycles: string[][]
}

export function planRestoreOrder(tables: readonly TableRef[]): RestorePlan {
  const names = [...new Set(tables.map((t) => t.name))].sort()
  const known = new Set(names)
  const parents = new Map<string, string[]>()
  for (const t of tables) {
    const list = parents.get(t.name) ?? []
    for (const r of t.references) if (known.has(r) && !list.includes(r)) list.push(r)
    parents.set(t.name, list.sort())
  }

  // Tarjan's strongly connected components over "depends on" edges: components come
  // out dependencies first, which is exactly the order a restore needs.
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const components: string[][] = []
  let counter = 0

  const visit = (v: string): void => {
    index.set(v, counter)
    low.set(v, counter)
    counter++
    stack.push(v)
    onStack.add(v)
    for (const w of parents.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!))
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      components.push(component.sort())
    }
  }
  for (const name of names) if (!index.has(name)) visit(name)

  const cycles = components.filter((c) => c.length > 1 || (parents.get(c[0]!) ?? []).includes(c[0]!))
  return { order: components.flat(), cycles }
}
