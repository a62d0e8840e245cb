// @vitest-environment jsdom
// The notebook page as a user sees it, wired to a real store, real commands and a real kernel
// connection talking socket.io to a gateway double.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, screen, waitFor as waitForElement, within } from "@testing-library/react";
import type { Notebook } from "@cellar/protocol";
import { renderNotebook, startGateway as gateway, waitUntil as waitFor } from "../../test-support/render-notebook";
import type { GatewayDouble } from "../../test-support/gateway-double";

afterEach(cleanup);

function notebook(): Notebook {
  return {
    id: "nb",
    userId: "u",
    title: "Sales",
    createdAt: "",
    updatedAt: "",
    lastRunAt: null,
    cells: [
      { id: "c1", cell_type: "code", source: "print('hi')", outputs: [], execution_count: null, metadata: {} },
      {
        id: "c2",
        cell_type: "code",
        source: "1+1",
        outputs: [{ output_type: "execute_result", data: { "text/plain": "2" }, metadata: {}, execution_count: 4 }],
        execution_count: 4,
        metadata: {},
      },
      { id: "m1", cell_type: "markdown", source: "# Notes", outputs: [], execution_count: null, metadata: {} },
    ],
  };
}

const open = async (gw: GatewayDouble) => renderNotebook(gw, notebook);

describe("notebook page", () => {
  it("shows the notebook as saved: title, cells, outputs, counts, rendered markdown", async () => {
    const gw = await gateway("idle");
    await open(gw);
    expect((screen.getByTestId("notebook-title") as HTMLInputElement).value).toBe("Sales");
    const cells = screen.getAllByTestId("cell");
    expect(cells.map((c) => c.dataset.cellType)).toEqual(["code", "code", "markdown"]);
    expect(within(cells[0]).getByTestId("execution-count").textContent).toBe("[ ]");
    expect(within(cells[1]).getByTestId("execution-count").textContent).toBe("[4]");
    expect(within(cells[1]).getByTestId("cell-output").textContent).toBe("2");
    expect(within(cells[2]).getByTestId("markdown-rendered").querySelector("h1")?.textContent).toBe("Notes");
    expect(screen.getByTestId("save-status").textContent).toBe("Saved");
    await waitFor(() => screen.getByTestId("kernel-status").dataset.status === "idle", "idle");
    expect(screen.getByTestId("kernel-status").textContent).toContain("idle");
    expect(screen.getByTestId("worker-status").textContent).toBe("1 worker");
  });

  it("runs a cell: [*] while running, then its output and count", async () => {
    const gw = await gateway("idle");
    await open(gw);
    await waitFor(() => screen.getByTestId("kernel-status").dataset.status === "idle", "idle");
    const cell = screen.getAllByTestId("cell")[0];
    fireEvent.click(within(cell).getByTestId("run-this-cell"));
    expect(within(cell).getByTestId("execution-count").textContent).toBe("[*]");
    await waitFor(() => gw.sent.length === 1, "the request");
    const request = gw.sent[0];
    gw.reply("nb", request, "execute_input", { code: "print('hi')", execution_count: 5 });
    gw.reply("nb", request, "stream", { name: "stdout", text: "\u001b[32mhi\u001b[0m\n" });
    gw.reply("nb", request, "execute_reply", { status: "ok", execution_count: 5 });
    await waitFor(() => within(cell).getByTestId("execution-count").textContent === "[5]", "[5]");
    // Outputs repaint at most every 100 ms (so a flood cannot starve typing), on a timer that
    // only fires outside act(): testing-library's waitFor polls that way.
    const stream = await waitForElement(() => within(cell).getByTestId("output-stream"));
    expect(stream.textContent).toBe("hi\n");
    expect(stream.querySelector("span.ansi-green-fg")).not.toBeNull();
  });

  it("adds, moves and deletes cells, marking the notebook unsaved", async () => {
    const gw = await gateway("idle");
    const { store } = await open(gw);
    fireEvent.click(screen.getByTestId("add-markdown-cell"));
    expect(screen.getAllByTestId("cell")).toHaveLength(4);
    const added = store.getState().cells[1]; // below the selected (first) cell
    expect(added.cell_type).toBe("markdown");
    const addedEl = screen.getAllByTestId("cell")[1];
    expect(addedEl.dataset.cellId).toBe(added.id);
    fireEvent.click(within(addedEl).getByTestId("move-cell-down"));
    expect(screen.getAllByTestId("cell")[2].dataset.cellId).toBe(added.id);
    fireEvent.click(within(screen.getAllByTestId("cell")[2]).getByTestId("delete-cell"));
    expect(screen.getAllByTestId("cell").map((c) => c.dataset.cellId)).toEqual(["c1", "c2", "m1"]);
    expect(store.getState().docVersion).toBe(3);
  });

  it("a dead kernel shows why, with a Restart button", async () => {
    const gw = await gateway("idle", 0);
    await open(gw);
    await waitFor(() => screen.getByTestId("kernel-status").dataset.status === "idle", "idle");
    expect(screen.getByTestId("worker-status").textContent).toBe("No worker connected");
    gw.socket().emit("kernel:status", { notebookId: "nb", status: "dead", reason: "The worker running this kernel disconnected." });
    await waitFor(() => screen.getByTestId("kernel-status").dataset.status === "dead", "dead");
    const badge = screen.getByTestId("kernel-status");
    expect(badge.textContent).toContain("dead");
    expect(badge.textContent).toContain("worker running this kernel disconnected");
    expect(within(badge).getByRole("button", { name: "Restart" })).toBeTruthy();
  });
});
