// Server state of schedules: a notebook's (the Schedule dialog) and the user's (the Jobs page),
// and the changes to one. Every change reads both lists again, and the notebook's runs (a
// "Run now" or a pause adds or cancels runs).
"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiReply } from "@cellar/kernel-client";
import type { ScheduleInput, ScheduleUpdate } from "@cellar/protocol";
import { gateway } from "../../shared/gateway";

export type ScheduleSummary = ApiReply<"listSchedules">[number];

export const scheduleKeys = {
  all: ["schedules"] as const,
  ofNotebook: (notebookId: string) => ["schedules", "notebook", notebookId] as const,
  mine: ["schedules", "mine"] as const,
};

export function useNotebookSchedules(notebookId: string) {
  return useQuery({ queryKey: scheduleKeys.ofNotebook(notebookId), queryFn: () => gateway.schedules.ofNotebook(notebookId) });
}

/** The Jobs page's list; read again every 15 s so last runs and next fire times stay current. */
export function useMySchedules() {
  return useQuery({ queryKey: scheduleKeys.mine, queryFn: () => gateway.schedules.mine(), refetchInterval: 15_000 });
}

function useScheduleMutation<A, R>(mutationFn: (arg: A) => Promise<R>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn,
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: scheduleKeys.all });
      void client.invalidateQueries({ queryKey: ["runs"] });
    },
  });
}

export const useCreateSchedule = (notebookId: string) =>
  useScheduleMutation((input: ScheduleInput) => gateway.schedules.create(notebookId, input));
export const useUpdateSchedule = () =>
  useScheduleMutation(({ id, change }: { id: string; change: ScheduleUpdate }) => gateway.schedules.update(id, change));
export const useDeleteSchedule = () => useScheduleMutation((id: string) => gateway.schedules.remove(id));
export const usePauseSchedule = () => useScheduleMutation((id: string) => gateway.schedules.pause(id));
export const useResumeSchedule = () => useScheduleMutation((id: string) => gateway.schedules.resume(id));
export const useRunNow = () => useScheduleMutation((id: string) => gateway.schedules.runNow(id));
