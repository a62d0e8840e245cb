// Entry point: open the database (migrating it), start the gateway, print the URL.
import { openDatabase } from "@cellar/db";
import { openBlobStore, storeSettingsFromEnv } from "@cellar/fs-client";
import { loadImageCatalog } from "./images/image-catalog";
import { loadConfig } from "./config";
import { createGateway } from "./gateway";
import { loadSecrets } from "./secrets";

const config = loadConfig();
const secrets = loadSecrets(config.home, { token: config.token, workerSecret: config.workerSecret });
const db = await openDatabase();
const blobStore = openBlobStore(storeSettingsFromEnv(process.env, config.casDir));
const images = await loadImageCatalog({ cacheDir: config.cacheDir, store: blobStore, specsDir: config.imagesDir });
const gateway = createGateway({
  config,
  store: db.notebooks,
  sessions: db.kernels,
  userId: db.localUserId,
  token: secrets.token,
  workerSecret: secrets.workerSecret,
  blobStore,
  images,
  pingDatabase: () => db.ping(),
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
  await gateway.close().catch((e) => console.error(e));
  await db.close().catch(() => {});
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
