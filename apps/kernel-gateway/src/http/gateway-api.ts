// The gateway-wide routes: liveness and readiness, the images a notebook can choose, the connected
// workers.
import type { z } from "zod";
import {
  buildImageBodySchema,
  type builtImageReplySchema,
  type dropCacheReplySchema,
  type imageReplySchema,
  type workerReplySchema,
} from "@cellar/protocol";
import type { ApiHandlers } from "./api-handlers";
import { userOf } from "./auth";
import { HttpError } from "./http-errors";

export interface GatewayApiDeps {
  /** The cluster's workers (cluster/fleet.ts). */
  workers(): Promise<Array<z.output<typeof workerReplySchema>>> | Array<z.output<typeof workerReplySchema>>;
  /** Every worker drops its image cache (operators: to reclaim disk, or to measure a cold attach). */
  dropWorkerCaches?(): Promise<Array<z.output<typeof dropCacheReplySchema>>>;
  /** The images notebooks can choose (GET /api/images). */
  images?(): Array<z.output<typeof imageReplySchema>>;
  /** Builds an image from an uploaded spec (POST /api/images); rejects naming what failed. */
  buildImage?(body: z.output<typeof buildImageBodySchema>): Promise<z.output<typeof builtImageReplySchema>>;
  /** Resolves while the database answers, rejects with the reason otherwise (GET /api/ready).
   * Left out (tests), the gateway reads as ready. */
  pingDatabase?(): Promise<void>;
  /** Why the replicas' shared Redis cannot be used right now, or null (GET /api/ready). */
  redisProblem?(): string | null;
}

export function gatewayApi(
  deps: GatewayApiDeps,
): ApiHandlers<"health" | "ready" | "listImages" | "buildImage" | "listWorkers" | "dropWorkerCaches"> {
  return {
    health: async () => ({ ok: true as const }),
    // Liveness stays 200 while the database is down: restarting the gateway would not bring it
    // back. Readiness takes the replica out of the load balancer until it does.
    ready: async () => {
      try {
        await deps.pingDatabase?.();
      } catch (error) {
        throw new HttpError(503, `Not ready: ${(error as Error).message}`);
      }
      const redis = deps.redisProblem?.();
      if (redis) throw new HttpError(503, `Not ready: ${redis}`);
      return { ok: true as const };
    },
    listImages: async () => deps.images?.() ?? [],
    buildImage: async (request) => {
      if (userOf(request).role !== "owner") throw new HttpError(403, "Only an owner of this Cellar can build images.");
      if (!deps.buildImage) throw new HttpError(404, "Not found");
      const body = buildImageBodySchema.safeParse(request.body);
      if (!body.success) {
        const issue = body.error.issues[0]!;
        throw new HttpError(400, `${issue.path.join(".") || "body"}: ${issue.message}`);
      }
      try {
        return await deps.buildImage(body.data);
      } catch (error) {
        throw new HttpError(422, (error as Error).message);
      }
    },
    listWorkers: async () => deps.workers(),
    dropWorkerCaches: async (request) => {
      if (userOf(request).role !== "owner") throw new HttpError(403, "Only an owner of this Cellar can do that.");
      if (!deps.dropWorkerCaches) throw new HttpError(404, "Not found");
      return deps.dropWorkerCaches();
    },
  };
}
