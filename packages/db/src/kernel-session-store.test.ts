import { describe, expect, it } from "vitest";
import type { Database } from "./database";
import type { NewKernelSession } from "./kernel-session-store";
import { DIALECTS, useTestDatabase } from "./test-support";

describe.each(DIALECTS)("kernel session store on %s", (dialect) => {
  let db: Database;
  useTestDatabase(dialect, (opened) => (db = opened));

  const session = (notebookId: string, sessionId: string): NewKernelSession => ({
    notebookId,
    sessionId,
    workerId: "w1",
    image: "base",
    imageId: "img-1",
    status: "starting",
    startedBy: db.localUserId,
  });

  it("two starts racing for one notebook make one kernel: the second gets the first's row", async () => {
    const nb = await db.notebooks.create(db.localUserId);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => db.kernels.claim(session(nb.id, `s${i}-${nb.id}`))));
    const winners = results.filter((r) => r.won);
    expect(winners).toHaveLength(1);
    const winner = winners[0].record.sessionId;
    for (const r of results) expect(r.record.sessionId).toBe(winner);
    expect((await db.kernels.list()).filter((k) => k.notebookId === nb.id)).toHaveLength(1);
  });

  it("a restart replaces the kernel it names, and only that one", async () => {
    const nb = await db.notebooks.create(db.localUserId);
    await db.kernels.claim(session(nb.id, `old-${nb.id}`));
    const stale = await db.kernels.claim(session(nb.id, `late-${nb.id}`), `someone-else-${nb.id}`);
    expect(stale).toMatchObject({ won: false, record: { sessionId: `old-${nb.id}` } });
    const restarted = await db.kernels.claim(session(nb.id, `new-${nb.id}`), `old-${nb.id}`);
    expect(restarted).toMatchObject({ won: true, record: { sessionId: `new-${nb.id}`, status: "starting" } });
    // Both racing to replace the same old kernel: one wins.
    const race = await Promise.all([
      db.kernels.claim(session(nb.id, `a-${nb.id}`), `new-${nb.id}`),
      db.kernels.claim(session(nb.id, `b-${nb.id}`), `new-${nb.id}`),
    ]);
    expect(race.filter((r) => r.won)).toHaveLength(1);
  });

  it("keeps a suspended kernel's checkpoint and status; busy is stored as idle", async () => {
    const nb = await db.notebooks.create(db.localUserId);
    const id = `s-${nb.id}`;
    await db.kernels.claim(session(nb.id, id));
    expect(await db.kernels.update(id, { status: "busy" })).toBe(true);
    expect((await db.kernels.get(nb.id))?.status).toBe("idle");
    await db.kernels.update(id, { status: "suspended", checkpoint: "sha256-abc", workerId: null });
    expect(await db.kernels.get(nb.id)).toMatchObject({ status: "suspended", checkpoint: "sha256-abc", workerId: null, imageId: "img-1" });
    expect(await db.kernels.checkpoints()).toContain("sha256-abc");
    expect(await db.kernels.update("no-such-session", { status: "dead" })).toBe(false);
  });

  it("a deleted notebook takes its kernel row, and so its checkpoint, with it", async () => {
    const nb = await db.notebooks.create(db.localUserId);
    await db.kernels.claim({ ...session(nb.id, `gone-${nb.id}`), status: "suspended", checkpoint: "sha256-gone" });
    expect(await db.kernels.checkpoints()).toContain("sha256-gone");
    await db.notebooks.remove(nb.id);
    expect(await db.kernels.get(nb.id)).toBeNull();
    expect(await db.kernels.checkpoints()).not.toContain("sha256-gone");
  });

  it("remove forgets the session", async () => {
    const nb = await db.notebooks.create(db.localUserId);
    await db.kernels.claim(session(nb.id, `r-${nb.id}`));
    await db.kernels.remove(`r-${nb.id}`);
    expect(await db.kernels.get(nb.id)).toBeNull();
  });
});
