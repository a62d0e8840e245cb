// Server state of runs: a notebook's (the Runs panel), one run with its notifications (the run
// page), and its outputs diff. Lists and runs are read every 2 s while something is queued or
// running, so a status changes on screen as it changes at the gateway.
"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiReply } from "@cellar/kernel-client";
import { isFinalRunStatus, type RunStatus } from "@cellar/protocol";
import { gateway } from "../../shared/gateway";

export type Run = ApiReply<"listNotebookRuns">[number];
export type RunDetail = ApiReply<"getRun">;
export type RunDiff = ApiReply<"runDiff">;

export const LIVE_REFRESH_MS = 2_000;
/** While nothing is going, a new fire time still has to show up, only less urgently. */
export const IDLE_REFRESH_MS = 15_000;

export const runKeys = {
  ofNotebook: (notebookId: string) => ["runs", "notebook", notebookId] as const,
  one: (runId: string) => ["runs", "one", runId] as const,
  diff: (runId: string) => ["runs", "diff", runId] as const,
};

export const isActive = (status: RunStatus) => !isFinalRunStatus(status);

export function useNotebookRuns(notebookId: string) {
  return useQuery({
    queryKey: runKeys.ofNotebook(notebookId),
    queryFn: () => gateway.runs.ofNotebook(notebookId, { limit: 100 }),
    refetchInterval: (query) => (query.state.data?.some((r) => isActive(r.status)) ? LIVE_REFRESH_MS : IDLE_REFRESH_MS),
  });
}

export function useRun(runId: string) {
  return useQuery({
    queryKey: runKeys.one(runId),
    queryFn: () => gateway.runs.get(runId),
    refetchInterval: (query) => (query.state.data && !isActive(query.state.data.status) ? false : LIVE_REFRESH_MS),
  });
}

/** The diff, once the run has ended (before, its outputs are still changing). */
export function useRunDiff(runId: string, enabled: boolean) {
  return useQuery({ queryKey: runKeys.diff(runId), queryFn: () => gateway.runs.diff(runId), enabled });
}

export function useCancelRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (runId: string) => gateway.runs.cancel(runId),
    onSuccess: () => client.invalidateQueries({ queryKey: ["runs"] }),
  });
}
