// A DocumentHub whose database refuses writes for a while: nothing is dropped, and nobody has to
// type again for it to be stored (the end-to-end case is in cluster/collab-resilience.test.ts).
import { cellText, fromNotebook } from "@cellar/notebook-doc";
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { DocumentHub, type DocumentHubDeps } from "./document-hub";
import { until } from "../testing/gateway-harness";

/** A notebook's document, and deps whose writes fail while `down` is set. */
function flakyDatabase() {
  const doc = fromNotebook({ title: "t", cells: [{ id: "c1", cell_type: "code", source: "", metadata: {} }] });
  const created = Y.encodeStateAsUpdate(doc);
  const stored: Uint8Array[] = [];
  const written: string[] = [];
  const state = { down: true, appendTries: 0, writeBackTries: 0 };
  const deps: DocumentHubDeps = {
    append: async (update) => {
      state.appendTries++;
      if (state.down) throw new Error("database is locked");
      stored.push(update);
    },
    compact: async () => {},
    writeBack: async (cells) => {
      state.writeBackTries++;
      if (state.down) throw new Error("database is locked");
      written.push(cells[0].source);
    },
    relayUpdate: () => {},
    relayAwareness: () => {},
    compactEvery: 1_000,
    writeBackDelayMs: 10,
  };
  const storedText = () => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, created);
    for (const update of stored) Y.applyUpdate(doc, update);
    return cellText(doc, "c1")?.toString();
  };
  return { doc, deps, state, stored, written, storedText };
}

describe("DocumentHub with a database that refuses writes", () => {
  it("keeps trying a refused update and the write-back until they are taken, with no further change to set it off", async () => {
    const db = flakyDatabase();
    const hub = new DocumentHub(db.doc, db.deps);
    hub.change((d) => cellText(d, "c1")!.insert(0, "typed"));
    await until(() => db.state.appendTries >= 2 && db.state.writeBackTries >= 2, "the writes to be tried again");
    expect(db.stored).toEqual([]);

    db.state.down = false;
    await until(() => db.storedText() === "typed" && db.written.at(-1) === "typed", "the update and the cells to be stored");
    await hub.close();
  });

  it("answers a flush only once what came before it is stored", async () => {
    const db = flakyDatabase();
    const hub = new DocumentHub(db.doc, db.deps);
    hub.change((d) => cellText(d, "c1")!.insert(0, "saved"));
    let answered = false;
    const persisted = hub.persist().then(() => (answered = true));
    await until(() => db.state.appendTries >= 2, "a second try");
    expect(answered).toBe(false);
    db.state.down = false;
    await persisted;
    expect(db.storedText()).toBe("saved");
    expect(db.written.at(-1)).toBe("saved");
    await hub.close();
  });
});
