// @vitest-environment jsdom
// The notebook header's Runs toggle: on a notebook it opens the Runs panel; a run's executed copy
// (kind "run") has no runs of its own, so neither Runs nor Schedule is offered there, but the way
// back to the notebook that ran.
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen } from "@testing-library/react";
import type { Notebook, NotebookKind } from "@cellar/protocol";
import { renderNotebook, startGateway } from "../../test-support/render-notebook";
import { stubGateway } from "../../test-support/render-with-gateway";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const notebook = (kind: NotebookKind) => (): Notebook & { role: "owner" } => ({
  id: "nb",
  userId: "u",
  title: kind === "run" ? "Sales (run)" : "Sales",
  createdAt: "",
  updatedAt: "",
  lastRunAt: null,
  // The owner on both, so that only the kind can take Schedule away (the gateway would make the
  // copy's owner a viewer of it as well).
  role: "owner",
  kind,
  executedFromId: kind === "run" ? "nb-source" : null,
  cells: [{ id: "c1", cell_type: "code", source: "print('hi')", outputs: [], execution_count: 1, metadata: {} }],
});

async function open(kind: NotebookKind) {
  stubGateway({
    "GET /api/notebooks/nb": { status: 200, body: notebook(kind)() },
    "GET /api/notebooks/nb/runs?limit=100": { status: 200, body: [] },
  });
  renderNotebook(await startGateway("idle"), notebook(kind));
}

describe("the Runs toggle", () => {
  it("on a notebook, opens and hides its Runs panel", async () => {
    await open("notebook");
    const toggle = await screen.findByTestId("runs-open");
    expect(screen.getByTestId("schedule-open")).toBeTruthy();
    expect(screen.queryByTestId("run-copy-source")).toBeNull();
    expect(screen.queryByTestId("runs-panel")).toBeNull();
    fireEvent.click(toggle);
    expect(await screen.findByTestId("runs-empty")).toBeTruthy();
    expect(toggle.getAttribute("aria-pressed")).toBe("true");
    fireEvent.click(toggle);
    expect(screen.queryByTestId("runs-panel")).toBeNull();
  });

  it("is not offered on a run's executed copy, nor is Schedule: a link to the notebook that ran is", async () => {
    await open("run");
    // Shown once the notebook (and so its kind) has loaded.
    const source = await screen.findByTestId("run-copy-source");
    expect(source.getAttribute("href")).toBe("/notebook/?id=nb-source");
    expect(screen.queryByTestId("runs-open")).toBeNull();
    expect(screen.queryByTestId("runs-panel")).toBeNull();
    expect(screen.queryByTestId("schedule-open")).toBeNull();
  });
});
