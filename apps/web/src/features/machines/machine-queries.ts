// Server state of the fleet (GET /api/workers): read every 5 s while the Machines panel is open,
// so kernels starting and workers coming and going show without a reload.
"use client";
import { useQuery } from "@tanstack/react-query";
import type { WorkerInfo } from "@cellar/kernel-client";
import { gateway } from "../../shared/gateway";

export type Machine = WorkerInfo;

export const MACHINES_REFRESH_MS = 5_000;
export const machineKeys = { all: ["machines"] as const };

export function useMachines() {
  return useQuery({ queryKey: machineKeys.all, queryFn: () => gateway.workers.list(), refetchInterval: MACHINES_REFRESH_MS });
}
