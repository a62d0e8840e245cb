// The settings and stand-ins a gateway started by a test or a bench runs with (no image builds,
// no collection of the content store, small sandbox limits): stated once for the in-process
// harness, the test's gateway processes and the collab bench's replicas.
import { join } from "node:path";
import type { Database } from "@cellar/db";
import { openBlobStore } from "@cellar/fs-client";
import type { GatewayConfig } from "../config";
import { createGateway, type Gateway } from "../gateway";
import { gatewayStores } from "../gateway-stores";
import type { ImageCatalog } from "../images/image-catalog";

export const TEST_IMAGE_ID = "a".repeat(64);

/** A config under `home` (images, cache and content store inside it). `port` 0: any free port. */
export function testGatewayConfig(opts: { home: string; port?: number; redisUrl?: string; webDir?: string }): GatewayConfig {
  return {
    host: "127.0.0.1",
    port: opts.port ?? 0,
    home: opts.home,
    webDir: opts.webDir ?? join(opts.home, "web"),
    outputFrameDir: join(opts.home, "output-frame"),
    imagesDir: join(opts.home, "images"),
    cacheDir: opts.home,
    casDir: join(opts.home, "cas"),
    sessionMemoryBytes: 1 << 30,
    sessionPids: 100,
    kernelStartTimeoutMs: 30_000,
    lostWorkerGraceMs: 30_000,
    redisUrl: opts.redisUrl,
    gcIntervalMs: 0,
    gcGraceMs: 3_600_000,
  };
}

/** One image, "base", already built. */
export const testImages: ImageCatalog = {
  imageId: () => TEST_IMAGE_ID,
  get: (name) => ({ name, description: "", imageId: TEST_IMAGE_ID, specHash: "", warmup: [] }),
  list: () => [{ name: "base", description: "", imageId: TEST_IMAGE_ID, specHash: "", warmup: [] }],
  build: async () => {
    throw new Error("the test images build nothing");
  },
  buildLog: () => undefined,
};

/** createGateway on `db`'s stores, with the test images and a local content store. Its scheduler
 * does not tick by itself (`schedules: true` lets it): tests of other things need no schedule
 * writes contending for a SQLite file shared by processes. */
export function createTestGateway(opts: {
  db: Database;
  config: GatewayConfig;
  token: string;
  workerSecret: string;
  schedules?: boolean;
  /** The scheduler's lease (default its own, 30 s). */
  leaseMs?: number;
}): Gateway {
  const { db, config } = opts;
  return createGateway({
    config,
    ...gatewayStores(db),
    token: opts.token,
    workerSecret: opts.workerSecret,
    blobStore: openBlobStore({ localDir: config.casDir }),
    images: testImages,
    scheduler: opts.schedules ? { leaseMs: opts.leaseMs } : { tickMs: 0 },
  });
}
