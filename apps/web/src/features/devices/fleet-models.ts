"use client";
// The GPU models the fleet offers, for the device pickers (a model no worker has can still be
// typed: the gateway then answers "no worker offers …").
import { shortGpuName } from "@cellar/protocol";
import { useQuery } from "@tanstack/react-query";
import { gateway } from "../../shared/gateway";

export function useFleetGpuModels(): string[] {
  const workers = useQuery({ queryKey: ["workers"], queryFn: () => gateway.workers.list(), staleTime: 30_000 });
  const models = new Set<string>();
  for (const w of workers.data ?? []) for (const g of w.resources.gpus) models.add(shortGpuName(g.model));
  return [...models].sort();
}
