import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreChunkSource, fetchManifest } from "../fetch/index";
import { LocalDirStore } from "../store/index";
import { ingestDirectory, ingestLayer } from "./index";

describe("ingestLayer: a parent image plus an overlayfs upper directory", () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), "cellar-layer-"));
  });
  afterEach(() => rm(work, { recursive: true, force: true }));

  it("adds and replaces files, deletes whited-out paths, and stores only the layer's new content", async () => {
    const parentDir = join(work, "parent");
    await mkdir(join(parentDir, "usr/lib/old"), { recursive: true });
    await writeFile(join(parentDir, "usr/lib/keep.py"), "keep\n");
    await writeFile(join(parentDir, "usr/lib/changed.py"), "v1\n");
    await writeFile(join(parentDir, "usr/lib/old/gone.py"), "gone\n");
    await writeFile(join(parentDir, "usr/lib/removed.py"), "removed\n");
    const store = new LocalDirStore(join(work, "cas"));
    const parent = await ingestDirectory(parentDir, store);

    const upper = join(work, "upper");
    await mkdir(join(upper, "usr/lib/sympy"), { recursive: true });
    await writeFile(join(upper, "usr/lib/changed.py"), "v2\n");
    await writeFile(join(upper, "usr/lib/sympy/__init__.py"), "x = 1\n");
    execFileSync("mknod", [join(upper, "usr/lib/old"), "c", "0", "0"]);
    execFileSync("mknod", [join(upper, "usr/lib/removed.py"), "c", "0", "0"]);

    const warnings: string[] = [];
    const layered = await ingestLayer(upper, parent.manifest, store, { onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);
    expect(layered.whiteouts).toEqual(["/usr/lib/old", "/usr/lib/removed.py"]);
    const m = await fetchManifest(new StoreChunkSource(store), layered.imageId);
    const paths = m.entries.map((e) => e.path);
    expect(paths).toEqual([
      "/",
      "/usr",
      "/usr/lib",
      "/usr/lib/changed.py",
      "/usr/lib/keep.py",
      "/usr/lib/sympy",
      "/usr/lib/sympy/__init__.py",
    ]);
    const src = new StoreChunkSource(store);
    const read = async (p: string) => (await src.fetchChunk(m.entries.find((e) => e.path === p)!.chunks![0]!)).toString();
    expect(await read("/usr/lib/changed.py")).toBe("v2\n");
    expect(await read("/usr/lib/keep.py")).toBe("keep\n");
    // the parent's unchanged file is the very same chunk: nothing of the parent was stored again
    expect(m.entries.find((e) => e.path === "/usr/lib/keep.py")!.chunks).toEqual(
      parent.manifest.entries.find((e) => e.path === "/usr/lib/keep.py")!.chunks,
    );
    expect(layered.stats.newBytes).toBe("v2\n".length + "x = 1\n".length);
    expect(layered.imageId).not.toBe(parent.imageId);
  });
});
