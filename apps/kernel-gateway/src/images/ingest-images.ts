// Builds the layered images and ingests every image into the content store ahead of the
// gateway's start, so the gateway never sits behind a build. `npm start` and `npm test` run it.
import { openBlobStore, storeSettingsFromEnv } from "@cellar/fs-client";
import { loadConfig } from "../config";
import { loadImageCatalog } from "./image-catalog";

const config = loadConfig();
const catalog = await loadImageCatalog({
  cacheDir: config.cacheDir,
  store: openBlobStore(storeSettingsFromEnv(process.env, config.casDir)),
  specsDir: config.imagesDir,
  build: true,
  pipIndex: config.pipIndexUrl,
  maxLayerMb: config.imageLayerMaxMb,
});
for (const image of catalog.list()) console.log(`image ${image.name}: ${image.imageId.slice(0, 12)}`);
