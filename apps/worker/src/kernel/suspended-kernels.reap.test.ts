import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keyOf, SuspendedKernels } from "./suspended-kernels";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "cellar-reap-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;
const id = (c: string) => c.repeat(64);

async function copy(sessionId: string, checkpoint: string, opts: { uploaded: boolean; ageMs: number }): Promise<string> {
  const d = path.join(dir, "local", keyOf(sessionId), checkpoint);
  await mkdir(d, { recursive: true });
  await writeFile(path.join(d, "pages.img"), "x");
  if (opts.uploaded) await writeFile(path.join(d, ".uploaded"), "");
  const t = new Date(Date.now() - opts.ageMs);
  await utimes(d, t, t);
  return d;
}

describe("SuspendedKernels.reapLocalCopies", () => {
  it("deletes old copies of kernels it no longer holds once the CAS has them, and nothing else", async () => {
    const kernels = new SuspendedKernels({ dir, remote: null, log: () => {} });
    const held = await copy("held", id("a"), { uploaded: true, ageMs: 30 * DAY });
    const gone = await copy("gone", id("b"), { uploaded: true, ageMs: 30 * DAY });
    const onlyCopy = await copy("not-uploaded", id("c"), { uploaded: false, ageMs: 30 * DAY });
    const recent = await copy("recent", id("d"), { uploaded: true, ageMs: 60_000 });
    const fetched = path.join(dir, "fetched", id("e"));
    await mkdir(fetched, { recursive: true });
    const old = new Date(Date.now() - 30 * DAY);
    await utimes(fetched, old, old);

    expect(await kernels.reapLocalCopies(["held"], 7 * DAY)).toBe(2);
    expect(existsSync(held)).toBe(true);
    expect(existsSync(gone)).toBe(false);
    expect(existsSync(path.dirname(gone))).toBe(false);
    expect(existsSync(onlyCopy)).toBe(true); // its upload failed: the only copy there is
    expect(existsSync(recent)).toBe(true);
    expect(existsSync(fetched)).toBe(false);
  });
});
