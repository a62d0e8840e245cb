// Entry point: open the database (migrating it), start the gateway, print the URL.
import { databaseUnavailableReason, openDatabase, type Database } from "@cellar/db";
import { openBlobStore, storeSettingsFromEnv } from "@cellar/fs-client";
import { loadImageCatalog } from "./images/image-catalog";
import { loadConfig } from "./config";
import { createGateway } from "./gateway";
import { gatewayStores } from "./gateway-stores";
import { scheduleCasGc } from "./storage/cas-gc";
import { loadSecrets } from "./secrets";

const config = loadConfig();
const secrets = loadSecrets(config.home, { token: config.token, workerSecret: config.workerSecret });
const db = await openDatabaseWhenReachable();
const blobStore = openBlobStore(storeSettingsFromEnv(process.env, config.casDir));
const images = await loadImageCatalog({
  cacheDir: config.cacheDir,
  store: blobStore,
  specsDir: config.imagesDir,
  pipIndex: config.pipIndexUrl,
  maxLayerMb: config.imageLayerMaxMb,
});
const gateway = createGateway({
  config,
  ...gatewayStores(db),
  token: secrets.token,
  workerSecret: secrets.workerSecret,
  blobStore,
  images,
  pingDatabase: () => db.ping(),
});
const gc = scheduleCasGc({
  store: blobStore,
  intervalMs: config.gcIntervalMs,
  graceMs: config.gcGraceMs,
  roots: async () => [...images.list().flatMap((i) => images.imageId(i.name) ?? []), ...(await db.kernels.checkpoints())],
});
const { port } = await gateway.listen();
const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;
console.log(`gateway: listening on ${config.host}:${port} (database: ${db.dialect})`);
console.log(`\n  Cellar is running: http://${host}:${port}/?token=${secrets.token}\n`);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`gateway: ${signal}, shutting down`);
  gc.stop();
  await gateway.close().catch((e) => console.error(e));
  await db.close().catch(() => {});
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));

/** A database that cannot be reached yet (PostgreSQL still starting, a network blip) is waited
 * for, with backoff, rather than exiting into a crash loop; any other failure ends the start. */
async function openDatabaseWhenReachable(): Promise<Database> {
  for (let delayMs = 500; ; delayMs = Math.min(delayMs * 2, 10_000)) {
    try {
      return await openDatabase();
    } catch (error) {
      const reason = databaseUnavailableReason(error);
      if (!reason) throw error;
      console.warn(`gateway: the database is unavailable (${reason}); trying again in ${delayMs / 1000} s`);
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
