// @vitest-environment jsdom
// The notebook page for someone it was shared with: what a viewer and a runner are offered, who
// ran a cell last, and the page once the owner takes the access away. A real store, commands and
// kernel connection, talking socket.io to a gateway double that answers with the role.
import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, screen } from "@testing-library/react";
import type { Notebook, NotebookRole, WorkspaceEntry } from "@cellar/protocol";
import { renderNotebook, startGateway, waitUntil } from "../../test-support/render-notebook";
import { stubGateway } from "../../test-support/render-with-gateway";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const notebook = (role: NotebookRole): Notebook & { role: NotebookRole } => ({
  id: "nb",
  userId: "owner",
  title: "Shared",
  createdAt: "",
  updatedAt: "",
  lastRunAt: null,
  role,
  cells: [
    {
      id: "c1",
      cell_type: "code",
      source: "print('hi')",
      outputs: [],
      execution_count: 1,
      metadata: {},
      lastRunBy: { id: "o", name: "Olga" },
    },
    { id: "m1", cell_type: "markdown", source: "# Notes", outputs: [], execution_count: null, metadata: {} },
  ],
});

const dataFile: WorkspaceEntry = { name: "data.csv", path: "data.csv", kind: "file", size: 12, modifiedMs: 0 };

/** The page of someone with `role`; the gateway's HTTP side lists one file to whoever it lets
 * list (the route table's listFiles role: runners up) and refuses the others as it words it. */
async function open(role: NotebookRole) {
  const gw = await startGateway("idle");
  gw.role = role;
  stubGateway({
    "GET /api/notebooks/nb/files?path=":
      role === "viewer"
        ? { status: 403, body: { error: "Needs the runner role on this notebook" } }
        : { status: 200, body: { path: "", entries: [dataFile] } },
  });
  const { store, commands } = renderNotebook(gw, () => notebook(role));
  await waitUntil(() => store.getState().kernel.status === "idle", "the notebook to open");
  return { gw, store, commands };
}

const editorOf = (i: number) => screen.getAllByTestId("cell")[i]!.querySelector(".cm-content") as HTMLElement;

describe("a shared notebook's page", () => {
  it("a viewer reads the cells and who ran them, and is offered nothing that changes or runs them", async () => {
    const { gw, store, commands } = await open("viewer");
    expect(editorOf(0).getAttribute("contenteditable")).toBe("false");
    expect(screen.getByTestId("last-run-by").textContent).toBe("Last run by Olga");
    expect(screen.queryAllByTestId("run-this-cell")).toHaveLength(0);
    expect(screen.queryByTitle("Run all cells")).toBeNull();
    expect(screen.queryByTitle("Add a code cell below the selected one (B)")).toBeNull();
    expect(screen.queryByTestId("clear-all-outputs")).toBeNull();
    expect(screen.queryByTestId("restart-kernel")).toBeNull();
    expect(screen.queryAllByTestId("drag-handle")).toHaveLength(0);
    expect(screen.getByTestId("notebook-access").textContent).toBe("View only");
    expect(screen.getByTestId<HTMLInputElement>("notebook-title").readOnly).toBe(true);
    // Find works; replacing is an edit.
    act(() => store.getState().setFindOpen(true));
    expect(screen.getByTestId("find-close")).toBeTruthy();
    expect(screen.queryByTestId("replace-all")).toBeNull();
    // No workspace: the gateway lists files to runners up, and a shell needs an editor.
    expect(screen.queryByTestId("files-panel")).toBeNull();
    expect(screen.queryByTestId("files-show")).toBeNull();
    expect(screen.queryByText(/Needs the runner role/)).toBeNull();
    expect(screen.queryByTestId("terminal-new")).toBeNull();
    // Nothing of saving: whatever the autosave thinks, a viewer has no changes of their own.
    act(() => store.getState().setSaveState("unsaved"));
    expect(screen.queryByTestId("save-status")).toBeNull();
    expect(screen.queryByText("Unsaved changes")).toBeNull();
    // Keys that edit in command mode change nothing either, and the run keys send nothing.
    act(() => store.getState().deleteCell("c1"));
    expect(store.getState().cells.map((c) => c.id)).toEqual(["c1", "m1"]);
    expect(store.getState().docVersion).toBe(0);
    act(() => void commands.execute("run-advance"));
    act(() => store.getState().selectCell("c1"));
    fireEvent.keyDown(screen.getAllByTestId("cell")[0]!, { key: "Enter", shiftKey: true });
    act(() => commands.runCell("c1", "in-place"));
    await act(() => commands.restart());
    expect(gw.sent).toEqual([]);
    expect(store.getState().notice).toBeNull();
  });

  it("a viewer is not offered Restart when the kernel dies", async () => {
    const { gw } = await open("viewer");
    act(() => void gw.socket().emit("kernel:status", { notebookId: "nb", status: "dead", reason: "The worker went away." }));
    await waitUntil(() => screen.getByTestId("kernel-status").dataset.status === "dead", "the kernel to die");
    expect(screen.queryByTestId("kernel-status-restart")).toBeNull();
  });

  it("a runner may run the cells as they are but not edit them; runs by others show who ran them", async () => {
    const { gw, store } = await open("runner");
    expect(editorOf(0).getAttribute("contenteditable")).toBe("false");
    expect(screen.getAllByTestId("run-this-cell")).toHaveLength(1);
    expect(screen.getByTestId("notebook-access").textContent).toBe("Can run");
    expect(screen.getByTestId("restart-kernel")).toBeTruthy();
    expect(screen.queryByTestId("clear-all-outputs")).toBeNull();
    expect(screen.queryByTestId("save-status")).toBeNull();
    act(() => screen.getByTestId("run-this-cell").click());
    await waitUntil(() => gw.sent.some((m) => m.header.msg_type === "execute_request"), "the run to reach the gateway");
    act(() => void gw.socket().emit("cell:ran", { notebookId: "nb", cellId: "c1", by: { id: "r", name: "Rui" } }));
    await waitUntil(() => store.getState().lastRunBy.c1?.name === "Rui", "the run to be credited");
    expect(screen.getByTestId("last-run-by").textContent).toBe("Last run by Rui");
  });

  it("a runner reads and downloads the workspace's files but is offered no change to them, and no terminal", async () => {
    await open("runner");
    const entry = await screen.findByText("data.csv");
    const row = entry.closest<HTMLElement>("[data-testid=file-entry]")!;
    expect(row.querySelector("[data-testid=file-download]")).not.toBeNull();
    expect(row.querySelector("[data-testid=file-rename]")).toBeNull();
    expect(row.querySelector("[data-testid=file-delete]")).toBeNull();
    expect(screen.queryByTestId("files-upload")).toBeNull();
    expect(screen.queryByTestId("files-new-folder")).toBeNull();
    expect(screen.queryByTestId("files-error")).toBeNull();
    expect(screen.queryByTestId("terminal-new")).toBeNull();
  });

  it("an editor edits as the owner does; when the access is taken away the page says so and turns read-only", async () => {
    const { gw, store } = await open("editor");
    expect(editorOf(0).getAttribute("contenteditable")).toBe("true");
    expect(screen.queryByTestId("notebook-access")).toBeNull();
    expect(screen.getByTestId("save-status").textContent).toBe("Saved");
    expect(screen.getByTestId("terminal-new")).toBeTruthy();
    expect(screen.getByTestId("files-upload")).toBeTruthy();
    expect(screen.getAllByTestId("drag-handle")).toHaveLength(2);
    act(() => store.getState().setFindOpen(true));
    expect(screen.getByTestId("replace-all")).toBeTruthy();
    act(() => void gw.socket().emit("access:changed", { notebookId: "nb", role: null }));
    await waitUntil(() => store.getState().accessRemoved, "the page to hear of it");
    expect(store.getState().notice).toMatch(/access to this notebook was removed/);
    expect(editorOf(0).getAttribute("contenteditable")).toBe("false");
    expect(screen.queryAllByTestId("run-this-cell")).toHaveLength(0);
    expect(screen.queryByTestId("terminal-new")).toBeNull();
    expect(screen.queryByTestId("files-panel")).toBeNull();
  });
});
