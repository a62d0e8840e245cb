// @vitest-environment jsdom
// The notebook page for someone it was shared with: what a viewer and a runner are offered, who
// ran a cell last, and the page once the owner takes the access away. A real store, commands and
// kernel connection, talking socket.io to a gateway double that answers with the role.
import { afterEach, describe, expect, it } from "vitest";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, render, screen } from "@testing-library/react";
import type { Notebook, NotebookRole } from "@cellar/protocol";
import { NotebookContext } from "./notebook-context";
import { KernelConnection } from "../kernel/kernel-socket";
import { createNotebookCommands } from "./notebook-commands";
import { createNotebookStore } from "./notebook-store";
import { startGatewayDouble, until } from "../../test-support/gateway-double";
import { NotebookLayout } from "./NotebookLayout";

const cleanups: Array<() => void> = [];
afterEach(() => {
  cleanup();
  while (cleanups.length) cleanups.pop()!();
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

async function open(role: NotebookRole) {
  const gw = await startGatewayDouble("idle");
  gw.role = role;
  cleanups.push(() => gw.close());
  const store = createNotebookStore(notebook(role));
  const kernel = new KernelConnection("nb", store, {
    fetchNotebook: async () => notebook(role),
    createSocket: gw.connectSocket,
    flushEveryMs: 5,
  });
  const commands = createNotebookCommands(store, kernel, async () => {});
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <NotebookContext.Provider value={{ store, commands, saveNow: async () => {} }}>
        <NotebookLayout />
      </NotebookContext.Provider>
    </QueryClientProvider>,
  );
  kernel.connect();
  cleanups.push(() => kernel.dispose());
  await act(() => until(() => store.getState().kernel.status === "idle", "the notebook to open"));
  return { gw, store };
}

const editorOf = (i: number) => screen.getAllByTestId("cell")[i]!.querySelector(".cm-content") as HTMLElement;

describe("a shared notebook's page", () => {
  it("a viewer reads the cells and who ran them, and is offered nothing that changes or runs them", async () => {
    const { store } = await open("viewer");
    expect(editorOf(0).getAttribute("contenteditable")).toBe("false");
    expect(screen.getByTestId("last-run-by").textContent).toBe("Last run by Olga");
    expect(screen.queryAllByTestId("run-this-cell")).toHaveLength(0);
    expect(screen.queryByTitle("Run all cells")).toBeNull();
    expect(screen.queryByTitle("Add a code cell below the selected one (B)")).toBeNull();
    expect(screen.getByTestId("notebook-access").textContent).toBe("View only");
    // Keys that edit in command mode change nothing either.
    act(() => store.getState().deleteCell("c1"));
    expect(store.getState().cells.map((c) => c.id)).toEqual(["c1", "m1"]);
  });

  it("a runner may run the cells as they are but not edit them; runs by others show who ran them", async () => {
    const { gw, store } = await open("runner");
    expect(editorOf(0).getAttribute("contenteditable")).toBe("false");
    expect(screen.getAllByTestId("run-this-cell")).toHaveLength(1);
    expect(screen.getByTestId("notebook-access").textContent).toBe("Can run");
    act(() => screen.getByTestId("run-this-cell").click());
    await act(() => until(() => gw.sent.some((m) => m.header.msg_type === "execute_request"), "the run to reach the gateway"));
    act(() => void gw.socket().emit("cell:ran", { notebookId: "nb", cellId: "c1", by: { id: "r", name: "Rui" } }));
    await act(() => until(() => store.getState().lastRunBy.c1?.name === "Rui", "the run to be credited"));
    expect(screen.getByTestId("last-run-by").textContent).toBe("Last run by Rui");
  });

  it("an editor edits as the owner does; when the access is taken away the page says so and turns read-only", async () => {
    const { gw, store } = await open("editor");
    expect(editorOf(0).getAttribute("contenteditable")).toBe("true");
    expect(screen.queryByTestId("notebook-access")).toBeNull();
    act(() => void gw.socket().emit("access:changed", { notebookId: "nb", role: null }));
    await act(() => until(() => store.getState().accessRemoved, "the page to hear of it"));
    expect(store.getState().notice).toMatch(/access to this notebook was removed/);
    expect(editorOf(0).getAttribute("contenteditable")).toBe("false");
    expect(screen.queryAllByTestId("run-this-cell")).toHaveLength(0);
  });
});
