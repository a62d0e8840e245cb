// @vitest-environment jsdom
import { afterEach, describe, expect, it } from "vitest";
import type { Notebook } from "@cellar/protocol";
import { clearDraft, decideDraft, readDraft, writeDraft } from "./local-drafts";

afterEach(() => localStorage.clear());

function notebook(updatedAt: string): Notebook {
  return {
    id: "nb",
    userId: "u",
    title: "Sales",
    createdAt: "",
    updatedAt,
    lastRunAt: null,
    cells: [
      {
        id: "c1",
        cell_type: "code",
        source: "x = 1",
        outputs: [{ output_type: "stream", name: "stdout", text: "hi\n" }],
        execution_count: 3,
        metadata: { tags: ["a"], collapsed: false },
      },
      { id: "c2", cell_type: "markdown", source: "# Notes", outputs: [], execution_count: null, metadata: {} },
    ],
  };
}

const edited = {
  title: "Sales (offline)",
  cells: [
    { id: "c1", cell_type: "code" as const, source: "x = 2", metadata: { collapsed: false, tags: ["a"] } },
    { id: "new", cell_type: "code" as const, source: "print(x)", metadata: {} },
  ],
};

describe("local drafts", () => {
  it("keeps unsaved edits per notebook until cleared", () => {
    writeDraft("nb", edited, 1000);
    expect(readDraft("nb")).toMatchObject({ notebookId: "nb", title: "Sales (offline)", writtenAt: 1000 });
    expect(readDraft("other")).toBeNull();
    clearDraft("nb");
    expect(readDraft("nb")).toBeNull();
  });

  it("ignores storage it cannot read instead of breaking the page", () => {
    localStorage.setItem("cellar:draft:nb", "{not json");
    expect(readDraft("nb")).toBeNull();
    localStorage.setItem("cellar:draft:nb", JSON.stringify({ notebookId: "nb", title: 1 }));
    expect(readDraft("nb")).toBeNull();
  });

  it("restores a draft newer than the gateway's copy, keeping outputs of cells the gateway knows", () => {
    writeDraft("nb", edited, Date.parse("2026-01-01T10:00:00Z"));
    const decision = decideDraft(notebook("2026-01-01T09:59:00Z"), readDraft("nb"));
    expect(decision.kind).toBe("restore");
    if (decision.kind !== "restore") return;
    expect(decision.notebook.title).toBe("Sales (offline)");
    expect(decision.notebook.cells.map((c) => [c.id, c.source])).toEqual([
      ["c1", "x = 2"],
      ["new", "print(x)"],
    ]);
    expect(decision.notebook.cells[0].outputs).toEqual([{ output_type: "stream", name: "stdout", text: "hi\n" }]);
    expect(decision.notebook.cells[0].execution_count).toBe(3);
    expect(decision.notebook.cells[1].outputs).toEqual([]);
  });

  it("a draft the gateway already has (key order aside) is nothing to restore", () => {
    const nb = notebook("2026-01-01T09:00:00Z");
    writeDraft(
      "nb",
      {
        title: nb.title,
        cells: nb.cells.map(({ id, cell_type, source }) => ({
          id,
          cell_type,
          source,
          metadata: id === "c1" ? { collapsed: false, tags: ["a"] } : {},
        })),
      },
      0,
    );
    expect(decideDraft(nb, readDraft("nb")).kind).toBe("none");
    expect(decideDraft(nb, null).kind).toBe("none");
  });

  it("a save elsewhere after the draft wins, but the draft is offered rather than dropped", () => {
    writeDraft("nb", edited, Date.parse("2026-01-01T10:00:00Z"));
    const decision = decideDraft(notebook("2026-01-01T10:05:00Z"), readDraft("nb"));
    expect(decision.kind).toBe("conflict");
    if (decision.kind === "conflict") expect(decision.draft.title).toBe("Sales (offline)");
  });
});
