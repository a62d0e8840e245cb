// @vitest-environment jsdom
// The toolbar's downloads: the notebook as .ipynb and as one HTML file, each fetched from its
// gateway route once pending edits are saved.
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen } from "@testing-library/react";
import type { Notebook } from "@cellar/protocol";
import { renderNotebook, startGateway } from "../../test-support/render-notebook";
import { stubGateway } from "../../test-support/render-with-gateway";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const notebook = (): Notebook & { role: "owner" } => ({
  id: "nb",
  userId: "u",
  title: "Sales",
  createdAt: "",
  updatedAt: "",
  lastRunAt: null,
  role: "owner",
  kind: "notebook",
  cells: [{ id: "c1", cell_type: "code", source: "print('hi')", outputs: [], execution_count: null, metadata: {} }],
});

describe("the notebook's downloads", () => {
  it("Export downloads the .ipynb and HTML the self-contained page, from the gateway's routes", async () => {
    stubGateway({ "GET /api/notebooks/nb": { status: 200, body: notebook() } });
    const clicked: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(`${new URL(this.href).pathname} download=${this.hasAttribute("download")}`);
    });
    renderNotebook(await startGateway("idle"), notebook);
    fireEvent.click(screen.getByTestId("export-notebook-html"));
    await vi.waitFor(() => expect(clicked).toEqual(["/api/notebooks/nb/export.html download=true"]));
    fireEvent.click(screen.getByTestId("export-notebook"));
    await vi.waitFor(() => expect(clicked[1]).toBe("/api/notebooks/nb/export download=true"));
  });
});
