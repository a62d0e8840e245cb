// Which environment variables a settings loader reads, found by running it on an environment that
// records every name asked for, rather than by a list kept beside it that could drift.
type Loader = (env: NodeJS.ProcessEnv) => unknown;

/** Runs `load` twice, on an environment where every variable is unset and one where every
 * variable is "1" (so branches taken only when a value is set, or unset, are both seen); a
 * loader that throws on one of them still counts what it read before. */
export function envReadBy(load: Loader): Set<string> {
  const names = new Set<string>();
  for (const value of [undefined, "1"]) {
    const env = new Proxy({} as NodeJS.ProcessEnv, {
      get: (_target, name) => {
        if (typeof name === "string") names.add(name);
        return value;
      },
    });
    try {
      load(env);
    } catch {
      /* e.g. the worker refuses to start without CELLAR_WORKER_SECRET */
    }
  }
  return names;
}
