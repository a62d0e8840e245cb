/** How long a cell ran, from JupyterLab's `metadata.execution` dates; null when unknown. */
export function executionDuration(metadata: Record<string, unknown>): number | null {
  const timing = metadata.execution as Record<string, unknown> | undefined;
  const start = Date.parse(String(timing?.["iopub.execute_input"] ?? ""));
  const end = Date.parse(String(timing?.["shell.execute_reply"] ?? ""));
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? end - start : null;
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1_000)} s`;
}
