// Measures the blob codecs on files of your choice, 4 MiB chunk by chunk as ingest stores them:
//   npx tsx src/store/codec-bench.ts <file>...
// Prints, per file and codec, the ratio and MB/s (10^6 bytes of uncompressed data per second) of
// compress and decompress (median of 5 rounds), one chunk at a time and with 2 chunks in flight (the thread pool),
// plus sha256 (every fetched blob is hashed after inflating) and the longest event-loop stall.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { promisify } from "node:util";
import { brotliCompress, brotliDecompress, constants } from "node:zlib";
import { compressFrame, compressFrameSync, decompressFrame, decompressFrameSync } from "lz4-napi";

const CHUNK = 4 * 1024 * 1024;
const br = promisify(brotliCompress);
const unbr = promisify(brotliDecompress);

type Op = (b: Buffer) => Promise<Buffer> | Buffer;
const codecs: Record<string, { compress: Op; decompress: Op }> = {
  "brotli q4": {
    compress: (b) => br(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: b.length } }),
    decompress: (b) => unbr(b),
  },
  "lz4 frame async": { compress: (b) => compressFrame(b), decompress: (b) => decompressFrame(b) },
  "lz4 frame sync": { compress: (b) => compressFrameSync(b), decompress: (b) => decompressFrameSync(b) },
};

/** Runs `op` over `inputs` with `inFlight` at once; the longest gap between 1 ms ticks is how
 * long the event loop was held (a sync call holds it for its whole duration). */
async function timed(inputs: Buffer[], op: Op, inFlight: number): Promise<{ s: number; out: Buffer[]; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 1);
  const out: Buffer[] = new Array(inputs.length);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < inputs.length) {
        const i = next++;
        out[i] = await op(inputs[i]!);
        await new Promise((r) => setImmediate(r)); // let the ticker see a sync call's gap
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  clearInterval(tick);
  stallMs = Math.max(stallMs, performance.now() - last);
  return { s, out, stallMs };
}

const ROUNDS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  console.log(
    `date ${new Date().toISOString()}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  for (const file of process.argv.slice(2)) {
    const data = await readFile(file);
    const chunks: Buffer[] = [];
    for (let o = 0; o < data.length; o += CHUNK) chunks.push(data.subarray(o, o + CHUNK));
    const mb = data.length / 1e6;
    const t0 = performance.now();
    for (const c of chunks) createHash("sha256").update(c).digest();
    console.log(
      `${file}: ${mb.toFixed(1)} MB in ${chunks.length} chunks; sha256 ${(mb / ((performance.now() - t0) / 1000)).toFixed(0)} MB/s`,
    );
    for (const [name, codec] of Object.entries(codecs)) {
      for (const inFlight of [1, 2]) {
        await timed(chunks.slice(0, 2), codec.compress, 1); // warm up
        const cs: number[] = [];
        const ds: number[] = [];
        let stall = 0;
        let stored = 0;
        for (let round = 0; round < ROUNDS; round++) {
          const c = await timed(chunks, codec.compress, inFlight);
          const d = await timed(c.out, codec.decompress, inFlight);
          if (!Buffer.concat(d.out).equals(data)) throw new Error(`${name} did not round-trip`);
          cs.push(mb / c.s);
          ds.push(mb / d.s);
          stall = Math.max(stall, c.stallMs, d.stallMs);
          stored = c.out.reduce((n, x) => n + x.length, 0);
        }
        console.log(
          `  ${name.padEnd(16)} x${inFlight}  ratio ${(stored / data.length).toFixed(3)}  compress ${median(cs).toFixed(0).padStart(5)} MB/s  decompress ${median(ds).toFixed(0).padStart(5)} MB/s  longest event-loop stall ${stall.toFixed(1)} ms`,
        );
      }
    }
  }
}

await main();
