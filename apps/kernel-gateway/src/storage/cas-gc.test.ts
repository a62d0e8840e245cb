import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "@cellar/db";
import { compressChunk, LocalDirStore } from "@cellar/fs-client";
import { scheduleCasGc } from "./cas-gc";

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
      const gc = scheduleCasGc({ store, intervalMs: 0, graceMs: 0, roots: async () => [checkpoint], log: () => {} });
      const [a, b] = [gc.runNow(), gc.runNow()];
      expect(a).toBe(b);
      expect(await a).toMatchObject({ deleted: 1 });
      expect(await store.has(checkpoint)).toBe(true);
      expect(await store.has(chunk)).toBe(true);
      expect(await store.has(stray)).toBe(false);
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
      const gc = scheduleCasGc({ store, intervalMs: 0, graceMs: 0, roots: () => db.kernels.checkpoints(), log: () => {} });
      await gc.runNow();
      expect(await store.has(deletedCheckpoint)).toBe(true);
      await db.notebooks.remove(deleted.id);
      await gc.runNow();
      expect(await store.has(deletedCheckpoint)).toBe(false);
      expect(await store.has(keptCheckpoint)).toBe(true);
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
