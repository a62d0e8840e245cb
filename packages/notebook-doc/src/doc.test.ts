import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { applyCells, cellText, deleteCell, docTitle, fromNotebook, insertCell, moveCell, setSource, setTitle, toCells } from "./doc";

/** A seeded generator, so a failing random order can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function shuffle<T>(items: T[], rnd: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** Two peers that record the updates each makes, to be delivered later in any order. */
function peers(cells = [{ id: "a", cell_type: "code" as const, source: "" }]) {
  const base = fromNotebook({ title: "t", cells });
  const make = () => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(base));
    const outbox: Uint8Array[] = [];
    doc.on("update", (update: Uint8Array, origin: unknown) => {
      if (origin !== "remote") outbox.push(update);
    });
    return { doc, outbox };
  };
  return [make(), make()] as const;
}

function deliver(from: { outbox: Uint8Array[] }, to: { doc: Y.Doc }, rnd: () => number) {
  for (const update of shuffle(from.outbox.splice(0), rnd)) Y.applyUpdate(to.doc, update, "remote");
}

describe("fromNotebook / toCells", () => {
  it("keeps the cells' order, types, sources, metadata and the title", () => {
    const doc = fromNotebook({
      title: "analysis",
      cells: [
        { id: "x", cell_type: "markdown", source: "# hi" },
        { id: "b", cell_type: "code", source: "1+1", metadata: { tags: ["parameters"] } },
        { id: "a", cell_type: "raw", source: "" },
      ],
    });
    expect(docTitle(doc)).toBe("analysis");
    setTitle(doc, "renamed");
    expect(docTitle(doc)).toBe("renamed");
    expect(toCells(doc)).toEqual([
      { id: "x", cell_type: "markdown", source: "# hi", metadata: {} },
      { id: "b", cell_type: "code", source: "1+1", metadata: { tags: ["parameters"] } },
      { id: "a", cell_type: "raw", source: "", metadata: {} },
    ]);
  });
});

describe("editing one cell at once", () => {
  it("two people typing into the same cell, updates arriving interleaved and out of order, converge with every character", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rnd = random(seed);
      const [p, q] = peers([{ id: "a", cell_type: "code", source: "print()" }]);
      const typed = { p: "", q: "" };
      for (let step = 0; step < 60; step++) {
        const who = rnd() < 0.5 ? p : q;
        const text = cellText(who.doc, "a")!;
        const ch = who === p ? String.fromCharCode(97 + (step % 26)) : String.fromCharCode(65 + (step % 26));
        text.insert(Math.floor(rnd() * (text.length + 1)), ch);
        typed[who === p ? "p" : "q"] += ch;
        if (rnd() < 0.3) deliver(p, q, rnd);
        if (rnd() < 0.3) deliver(q, p, rnd);
      }
      deliver(p, q, rnd);
      deliver(q, p, rnd);
      const final = cellText(p.doc, "a")!.toString();
      expect(cellText(q.doc, "a")!.toString()).toBe(final);
      expect(final.length).toBe("print()".length + typed.p.length + typed.q.length);
      const sorted = (s: string) => [...s].sort().join("");
      expect(sorted(final)).toBe(sorted("print()" + typed.p + typed.q));
    }
  });

  it("setSource writes only the difference, so a concurrent edit elsewhere in the cell survives", () => {
    const rnd = random(7);
    const [p, q] = peers([{ id: "a", cell_type: "code", source: "x = 1\ny = 2\n" }]);
    setSource(p.doc, "a", "x = 10\ny = 2\n");
    setSource(q.doc, "a", "x = 1\ny = 2\nz = 3\n");
    deliver(p, q, rnd);
    deliver(q, p, rnd);
    expect(toCells(p.doc)[0].source).toBe("x = 10\ny = 2\nz = 3\n");
    expect(toCells(q.doc)).toEqual(toCells(p.doc));
  });
});

describe("concurrent structure changes", () => {
  const ids = (doc: Y.Doc) => toCells(doc).map((c) => c.id);
  const initial = ["c0", "c1", "c2", "c3", "c4"].map((id) => ({ id, cell_type: "code" as const, source: id }));

  it("inserting at the same place on both sides keeps both cells, in the same order everywhere", () => {
    const rnd = random(3);
    const [p, q] = peers(initial);
    insertCell(p.doc, { id: "p1", cell_type: "code" }, { after: "c1" });
    insertCell(q.doc, { id: "q1", cell_type: "markdown" }, { after: "c1" });
    deliver(p, q, rnd);
    deliver(q, p, rnd);
    expect(ids(p.doc)).toEqual(["c0", "c1", "p1", "q1", "c2", "c3", "c4"]);
    expect(ids(q.doc)).toEqual(ids(p.doc));
    // A later insert between the two tied cells lands exactly there.
    insertCell(p.doc, { id: "mid", cell_type: "code" }, { after: "p1" });
    expect(ids(p.doc)).toEqual(["c0", "c1", "p1", "mid", "q1", "c2", "c3", "c4"]);
  });

  it("moving the same cell to two places leaves it once, at one of them", () => {
    const rnd = random(4);
    const [p, q] = peers(initial);
    moveCell(p.doc, "c2", { before: null });
    moveCell(q.doc, "c2", { after: null });
    deliver(p, q, rnd);
    deliver(q, p, rnd);
    expect(ids(p.doc)).toEqual(ids(q.doc));
    expect([...ids(p.doc)].sort()).toEqual(["c0", "c1", "c2", "c3", "c4"]);
  });

  it("random inserts, deletes and moves on both sides never duplicate or lose a cell", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = random(seed);
      const [p, q] = peers(initial);
      const deleted = new Set<string>();
      const inserted = new Set<string>();
      for (let step = 0; step < 40; step++) {
        const who = rnd() < 0.5 ? p : q;
        const present = ids(who.doc);
        const pick = () => present[Math.floor(rnd() * present.length)] ?? null;
        const roll = rnd();
        if (roll < 0.35 || present.length === 0) {
          const id = `n${seed}-${step}`;
          inserted.add(id);
          insertCell(who.doc, { id, cell_type: "code", source: id }, rnd() < 0.5 ? { after: pick() } : { before: pick() });
        } else if (roll < 0.5) {
          const id = pick()!;
          deleted.add(id);
          deleteCell(who.doc, id);
        } else {
          moveCell(who.doc, pick()!, rnd() < 0.5 ? { after: pick() } : { before: pick() });
        }
        if (rnd() < 0.25) deliver(p, q, rnd);
        if (rnd() < 0.25) deliver(q, p, rnd);
      }
      deliver(p, q, rnd);
      deliver(q, p, rnd);
      const final = ids(p.doc);
      expect(ids(q.doc)).toEqual(final);
      expect(new Set(final).size).toBe(final.length);
      const expected = [...initial.map((c) => c.id), ...inserted].filter((id) => !deleted.has(id)).sort();
      expect([...final].sort()).toEqual(expected);
      // Sources travel with their cell.
      for (const cell of toCells(p.doc)) expect(cell.source).toBe(cell.id);
    }
  });
});

describe("applyCells", () => {
  it("makes the document match a saved list: deletes, inserts, reorders, changes sources and types", () => {
    const doc = fromNotebook({
      cells: ["a", "b", "c", "d"].map((id) => ({ id, cell_type: "code" as const, source: id })),
    });
    applyCells(doc, [
      { id: "d", cell_type: "code", source: "d" },
      { id: "a", cell_type: "markdown", source: "a!" },
      { id: "new", cell_type: "code", source: "n" },
      { id: "c", cell_type: "code", source: "c", metadata: { tags: ["x"] } },
    ]);
    expect(toCells(doc)).toEqual([
      { id: "d", cell_type: "code", source: "d", metadata: {} },
      { id: "a", cell_type: "markdown", source: "a!", metadata: {} },
      { id: "new", cell_type: "code", source: "n", metadata: {} },
      { id: "c", cell_type: "code", source: "c", metadata: { tags: ["x"] } },
    ]);
  });

  it("merges with an edit typed meanwhile instead of overwriting it", () => {
    const rnd = random(9);
    const [p, q] = peers([{ id: "a", cell_type: "code", source: "abc" }]);
    cellText(q.doc, "a")!.insert(3, "XYZ");
    applyCells(p.doc, [{ id: "a", cell_type: "code", source: "0abc" }]);
    deliver(p, q, rnd);
    deliver(q, p, rnd);
    expect(toCells(p.doc)[0].source).toBe("0abcXYZ");
  });

  it("is a no-op (no update at all) when nothing changed", () => {
    const doc = fromNotebook({ cells: [{ id: "a", cell_type: "code", source: "x" }] });
    let updates = 0;
    doc.on("update", () => updates++);
    applyCells(doc, [{ id: "a", cell_type: "code", source: "x" }]);
    expect(updates).toBe(0);
  });
});
