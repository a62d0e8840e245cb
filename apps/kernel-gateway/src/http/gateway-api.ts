// The gateway-wide routes: health, the images a notebook can choose, the connected workers.
import type { ApiHandlers } from "./api-handlers";
import { HttpError } from "./http-errors";

export interface GatewayApiDeps {
  workers(): Array<{ id: string; resources: { cpus: number; memoryBytes: number; gpus: string[] }; sessions: number }>;
  /** Every worker drops its image cache (operators: to reclaim disk, or to measure a cold attach). */
  dropWorkerCaches?(): Promise<Array<{ id: string; ok: boolean; droppedBytes?: number; error?: string }>>;
  /** The images notebooks can choose (GET /api/images). */
  images?(): Array<{ name: string; description: string }>;
}

export function gatewayApi(deps: GatewayApiDeps): ApiHandlers<"health" | "listImages" | "listWorkers" | "dropWorkerCaches"> {
  return {
    health: async () => ({ ok: true as const }),
    listImages: async () => deps.images?.() ?? [],
    listWorkers: async () => deps.workers(),
    dropWorkerCaches: async () => {
      if (!deps.dropWorkerCaches) throw new HttpError(404, "Not found");
      return deps.dropWorkerCaches();
    },
  };
}
