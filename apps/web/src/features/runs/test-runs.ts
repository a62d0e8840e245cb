// Runs as the gateway answers them, for the runs tests.
export function aRun(over: Record<string, unknown> = {}) {
  return {
    id: "r1",
    scheduleId: "s1",
    scheduleName: "Morning",
    notebookId: "nb1",
    notebookTitle: "Report",
    trigger: "schedule",
    status: "succeeded",
    scheduledFor: "2026-03-20T08:00:00.000Z",
    startedAt: "2026-03-20T08:00:01.000Z",
    finishedAt: "2026-03-20T08:00:13.500Z",
    durationMs: 12_500,
    attempt: 1,
    parameters: {},
    image: "python",
    workerId: "worker-1",
    failingCellId: null,
    failingCellIndex: null,
    errorName: null,
    errorValue: null,
    traceback: null,
    reason: null,
    executedNotebookId: "nb-run-1",
    cancelRequested: false,
    ...over,
  };
}
