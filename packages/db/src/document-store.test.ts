import { describe, expect, it } from "vitest";
import type { Database } from "./database";
import type { StoredDocument } from "./document-store";
import { DIALECTS, useTestDatabase } from "./test-support";

const bytes = (...values: number[]) => new Uint8Array(values);
/** A stand-in for Yjs: the folded state is the state followed by the updates' bytes. */
const concat = ({ state, updates }: StoredDocument) => new Uint8Array([...state, ...updates.flatMap((u) => [...u.update])]);

describe.each(DIALECTS)("document store on %s", (dialect) => {
  let db: Database;
  useTestDatabase(dialect, (opened) => (db = opened));

  it("keeps a state and the updates appended since, in order", async () => {
    const nb = await db.notebooks.create(db.localUserId);
    expect(await db.documents.load(nb.id)).toBeNull();
    expect(await db.documents.create(nb.id, bytes(1, 2))).toBe(true);
    expect(await db.documents.create(nb.id, bytes(9))).toBe(false);
    await db.documents.append(nb.id, bytes(3));
    await db.documents.append(nb.id, Buffer.from([4, 5]));
    const stored = await db.documents.load(nb.id);
    expect([...stored!.state]).toEqual([1, 2]);
    expect(stored!.updates.map((u) => [...u.update])).toEqual([[3], [4, 5]]);
    expect(await db.documents.size(nb.id)).toEqual({ stateBytes: 2, updateBytes: 3, updates: 2 });
  });

  it("compaction folds the updates into the state and deletes them", async () => {
    const nb = await db.notebooks.create(db.localUserId);
    await db.documents.create(nb.id, bytes(1));
    for (let i = 2; i <= 5; i++) await db.documents.append(nb.id, bytes(i));
    expect(await db.documents.compact(nb.id, concat)).toBe(true);
    const stored = await db.documents.load(nb.id);
    expect([...stored!.state]).toEqual([1, 2, 3, 4, 5]);
    expect(stored!.updates).toEqual([]);
    expect(await db.documents.compact("no-such-notebook", concat)).toBe(false);
  });

  it("two compactions at once take turns: no update is folded twice or lost", async () => {
    const nb = await db.notebooks.create(db.localUserId);
    await db.documents.create(nb.id, bytes());
    for (let i = 1; i <= 6; i++) await db.documents.append(nb.id, bytes(i));
    await Promise.all([db.documents.compact(nb.id, concat), db.documents.compact(nb.id, concat), db.documents.append(nb.id, bytes(7))]);
    await db.documents.compact(nb.id, concat);
    expect([...(await db.documents.load(nb.id))!.state].sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("a deleted notebook takes its document with it; appending to it is refused", async () => {
    const nb = await db.notebooks.create(db.localUserId);
    await db.documents.create(nb.id, bytes(1));
    await db.documents.append(nb.id, bytes(2));
    await db.notebooks.remove(nb.id);
    expect(await db.documents.load(nb.id)).toBeNull();
    expect(await db.documents.append(nb.id, bytes(3))).toBe(false);
  });
});
