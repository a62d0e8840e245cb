import { createHash } from "node:crypto";
import { mkdtemp, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "@cellar/db";
import { compressChunk, LocalDirStore } from "@cellar/fs-client";
import { MIN_GC_GRACE_MS, scheduleCasGc } from "./cas-gc";

const DAY = 86_400_000;
// Checks ask statBlob, not has(): has() is a reuse and would keep what it finds for a grace.
/** Makes a blob `ms` old: the local store's age is its file time. */
async function age(store: LocalDirStore, hash: string, ms: number): Promise<void> {
  const when = new Date(Date.now() - ms);
  await utimes(store.pathOf(hash), when, when);
}

describe("scheduleCasGc", () => {
  it("keeps the roots it is given (a suspended kernel's checkpoint) and their chunks, deletes the rest, and one run at a time", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cellar-gw-gc-"));
    try {
      const store = new LocalDirStore(dir);
      const put = async (bytes: Buffer) => {
        const hash = createHash("sha256").update(bytes).digest("hex");
        await store.put(hash, await compressChunk(bytes));
        return hash;
      };
      const chunk = await put(Buffer.from("checkpoint pages"));
      const checkpoint = await put(
        Buffer.from(
          JSON.stringify({
            version: 1,
            chunkSize: 16,
            entries: [{ path: "/p", type: "file", mode: 420, uid: 0, gid: 0, size: 16, mtime: 0, chunks: [chunk] }],
          }),
        ),
      );
      const stray = await put(Buffer.from("nobody's"));
      for (const h of [chunk, checkpoint, stray]) await age(store, h, DAY);
      const gc = scheduleCasGc({ store, intervalMs: 0, graceMs: 3_600_000, roots: async () => [checkpoint], log: () => {} });
      const [a, b] = [gc.runNow(), gc.runNow()];
      expect(a).toBe(b);
      expect(await a).toMatchObject({ deleted: 1 });
      expect(await store.statBlob(checkpoint)).not.toBeNull();
      expect(await store.statBlob(chunk)).not.toBeNull();
      expect(await store.statBlob(stray)).toBeNull();
      gc.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a deleted notebook's suspended checkpoint disappears at the next run; a suspended one stays (roots from a real database)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cellar-gw-gc-"));
    const db = await openDatabase(`file:${join(dir, "db.sqlite")}`, { log: () => {} });
    try {
      const store = new LocalDirStore(join(dir, "cas"));
      const put = async (bytes: Buffer) => {
        const hash = createHash("sha256").update(bytes).digest("hex");
        await store.put(hash, await compressChunk(bytes));
        return hash;
      };
      const checkpointOf = async (name: string) =>
        put(
          Buffer.from(
            JSON.stringify({
              version: 1,
              chunkSize: 16,
              entries: [{ path: `/${name}`, type: "file", mode: 420, uid: 0, gid: 0, size: 0, mtime: 0, chunks: [] }],
            }),
          ),
        );
      const kept = await db.notebooks.create(db.localUserId);
      const deleted = await db.notebooks.create(db.localUserId);
      const keptCheckpoint = await checkpointOf("kept");
      const deletedCheckpoint = await checkpointOf("deleted");
      for (const [nb, checkpoint] of [
        [kept, keptCheckpoint],
        [deleted, deletedCheckpoint],
      ] as const)
        await db.kernels.claim({
          notebookId: nb.id,
          sessionId: `s-${nb.id}`,
          workerId: null,
          image: "base",
          imageId: "i",
          status: "suspended",
          checkpoint,
          startedBy: db.localUserId,
        });
      for (const h of [keptCheckpoint, deletedCheckpoint]) await age(store, h, DAY);
      const gc = scheduleCasGc({ store, intervalMs: 0, graceMs: 3_600_000, roots: () => db.kernels.checkpoints(), log: () => {} });
      await gc.runNow();
      expect(await store.statBlob(deletedCheckpoint)).not.toBeNull();
      await db.notebooks.remove(deleted.id);
      await gc.runNow();
      expect(await store.statBlob(deletedCheckpoint)).toBeNull();
      expect(await store.statBlob(keptCheckpoint)).not.toBeNull();
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("raises a grace shorter than 10 min (CELLAR_GC_GRACE_S=0, or not a number) to 10 min, and says so", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cellar-gw-gc-"));
    try {
      const store = new LocalDirStore(dir);
      for (const graceMs of [0, Number.NaN]) {
        const put = async (bytes: Buffer, ms: number) => {
          const hash = createHash("sha256").update(bytes).digest("hex");
          await store.put(hash, await compressChunk(bytes));
          await age(store, hash, ms);
          return hash;
        };
        // A write under way five minutes in, and a stray from twenty minutes ago.
        const inFlight = await put(Buffer.from(`being written (${graceMs})`), 5 * 60_000);
        const stray = await put(Buffer.from(`abandoned (${graceMs})`), 2 * MIN_GC_GRACE_MS);
        const lines: string[] = [];
        const gc = scheduleCasGc({ store, intervalMs: 0, graceMs, roots: async () => [], log: (l) => lines.push(l) });
        expect(lines.filter((l) => l.startsWith("warning:"))).toEqual([expect.stringMatching(/CELLAR_GC_GRACE_S=.*using 600 s/)]);
        await gc.runNow();
        expect(await store.statBlob(inFlight)).not.toBeNull();
        expect(await store.statBlob(stray)).toBeNull();
        gc.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
