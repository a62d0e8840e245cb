// Ingests the built images into the content store ahead of the gateway's start, so the first
// start after an image build does not sit behind the walk. `npm start` and `npm test` run it.
import { LocalDirStore } from "@cellar/fs-client";
import { loadConfig } from "../config";
import { loadImageCatalog } from "./image-catalog";

const config = loadConfig();
await loadImageCatalog(config.cacheDir, new LocalDirStore(config.casDir), ["base"]);
