// Find and replace across the sources of every cell, as JupyterLab's notebook search does.

export interface FindOptions {
  caseSensitive: boolean;
  regex: boolean;
}

export interface CellMatch {
  cellId: string;
  from: number;
  to: number;
}

/** The query as a global RegExp, or an error to show when the user's regex does not compile. */
export function compileQuery(query: string, options: FindOptions): { ok: true; pattern: RegExp } | { ok: false; error: string } {
  const source = options.regex ? query : query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  try {
    return { ok: true, pattern: new RegExp(source, options.caseSensitive ? "g" : "gi") };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Every match in every cell, in notebook order. Empty matches (a regex like `a*`) are skipped. */
export function findMatches(cells: ReadonlyArray<{ id: string; source: string }>, query: string, options: FindOptions): CellMatch[] {
  if (!query) return [];
  const compiled = compileQuery(query, options);
  if (!compiled.ok) return [];
  const matches: CellMatch[] = [];
  for (const cell of cells) {
    for (const m of cell.source.matchAll(compiled.pattern)) {
      if (m[0].length === 0) continue;
      matches.push({ cellId: cell.id, from: m.index!, to: m.index! + m[0].length });
    }
  }
  return matches;
}

/** The source with one match replaced; `$1` and friends work in regex mode. */
export function replaceMatch(source: string, match: CellMatch, query: string, replacement: string, options: FindOptions): string {
  const found = source.slice(match.from, match.to);
  const compiled = compileQuery(query, options);
  const replaced =
    options.regex && compiled.ok
      ? found.replace(new RegExp(compiled.pattern.source, compiled.pattern.flags.replace("g", "")), replacement)
      : replacement;
  return source.slice(0, match.from) + replaced + source.slice(match.to);
}

/** Every cell's source with all matches replaced; only cells that changed are returned. */
export function replaceAll(
  cells: ReadonlyArray<{ id: string; source: string }>,
  query: string,
  replacement: string,
  options: FindOptions,
): Map<string, string> {
  const changed = new Map<string, string>();
  if (!query) return changed;
  const compiled = compileQuery(query, options);
  if (!compiled.ok) return changed;
  for (const cell of cells) {
    // A function replacement keeps `$` literal outside regex mode.
    const next = options.regex
      ? cell.source.replace(compiled.pattern, replacement)
      : cell.source.replace(compiled.pattern, () => replacement);
    if (next !== cell.source) changed.set(cell.id, next);
  }
  return changed;
}
