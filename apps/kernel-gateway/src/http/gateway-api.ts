// The gateway-wide routes: health, the images a notebook can choose, the connected workers.
import type { z } from "zod";
import type { dropCacheReplySchema, imageReplySchema, workerReplySchema } from "@cellar/protocol";
import type { ApiHandlers } from "./api-handlers";
import { HttpError } from "./http-errors";

export interface GatewayApiDeps {
  workers(): Array<z.output<typeof workerReplySchema>>;
  /** Every worker drops its image cache (operators: to reclaim disk, or to measure a cold attach). */
  dropWorkerCaches?(): Promise<Array<z.output<typeof dropCacheReplySchema>>>;
  /** The images notebooks can choose (GET /api/images). */
  images?(): Array<z.output<typeof imageReplySchema>>;
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
