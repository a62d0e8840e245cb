"use client";
// The GPU models the fleet offers, for the device pickers (a model no worker has can still be
// typed: the gateway then answers "no worker offers …").
import { shortGpuName } from "@cellar/protocol";
import { useQuery } from "@tanstack/react-query";
import { gateway } from "../../shared/gateway";
import { machineKeys } from "../machines/machine-queries";

export function useFleetGpuModels(): string[] {
  // The Machines panel's query (it polls while open); the pickers only read it now and then.
  const workers = useQuery({ queryKey: machineKeys.all, queryFn: () => gateway.workers.list(), staleTime: 30_000 });
  const models = new Set<string>();
  for (const w of workers.data ?? []) for (const g of w.resources.gpus) models.add(shortGpuName(g.model));
  return [...models].sort();
}
