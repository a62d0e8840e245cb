/** The record without `key`; the same object when it has no such key, so a store update that
 * changes nothing keeps its identity (and re-renders nothing). */
export function withoutKey<T extends Record<string, unknown>>(record: T, key: string): T {
  if (!(key in record)) return record;
  const next = { ...record };
  delete next[key];
  return next;
}
