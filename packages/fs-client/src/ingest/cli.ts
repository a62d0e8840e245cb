// Ingests a root filesystem into a local CAS directory and prints the result as JSON:
//   tsx src/ingest/cli.ts --store <casDir> [--chunk-size <bytes>] [--index <file>] [--parallelism <n>] <dir | file.tar | file.tar.gz | ->
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { createGunzip } from "node:zlib";
import { writeDaemonIndex } from "../manifest/daemon-index";
import { LocalDirStore } from "../store/local-dir-store";
import { dedupRatio } from "./chunk-writer";
import { ingestDirectory } from "./ingest-directory";
import { ingestTar } from "./ingest-tar";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    store: { type: "string" },
    "chunk-size": { type: "string" },
    index: { type: "string" },
    parallelism: { type: "string" },
  },
});
const source = positionals[0];
if (!values.store || !source) {
  console.error("usage: cli.ts --store <casDir> [--chunk-size <bytes>] [--index <file>] [--parallelism <n>] <dir | file.tar[.gz] | ->");
  process.exit(2);
}
const store = new LocalDirStore(values.store);
const options = {
  chunkSize: values["chunk-size"] ? Number(values["chunk-size"]) : undefined,
  parallelism: values.parallelism ? Number(values.parallelism) : undefined,
};
const started = performance.now();
let result;
if (source !== "-" && (await stat(source)).isDirectory()) {
  result = await ingestDirectory(source, store, options);
} else {
  let input: Readable = source === "-" ? process.stdin : createReadStream(source);
  if (/\.(tgz|tar\.gz)$/.test(source)) input = input.pipe(createGunzip());
  result = await ingestTar(input, store, options);
}
if (values.index) await writeDaemonIndex(result.manifest, values.index);
console.log(
  JSON.stringify({
    imageId: result.imageId,
    entries: result.manifest.entries.length,
    stats: result.stats,
    dedupRatio: dedupRatio([result.stats]),
    seconds: (performance.now() - started) / 1000,
  }),
);
