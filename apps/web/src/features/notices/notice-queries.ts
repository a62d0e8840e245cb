// Server state of the user's notices (a run failed, recovered or succeeded; a schedule was
// disabled): read every 30 s for the header's bell.
"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ApiReply } from "@cellar/kernel-client";
import { gateway } from "../../shared/gateway";

export type Notice = ApiReply<"listNotices">[number];

export const NOTICE_REFRESH_MS = 30_000;
export const noticeKeys = { all: ["notices"] as const };

export function useNotices() {
  return useQuery({ queryKey: noticeKeys.all, queryFn: () => gateway.notices.list(), refetchInterval: NOTICE_REFRESH_MS });
}

/** Marks those notices read (all of them without ids). */
export function useMarkNoticesRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (ids?: string[]) => gateway.notices.markRead(ids),
    onSuccess: () => client.invalidateQueries({ queryKey: noticeKeys.all }),
  });
}
