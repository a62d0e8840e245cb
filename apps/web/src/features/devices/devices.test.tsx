// @vitest-environment jsdom
// Devices on the notebook page (issue 15): a cell's device picker and gutter badge, `%%gpu`, the
// notebook's default device (live for collaborators through the shared document), where the
// kernel runs, the placement line under a cell, and a cell waiting for a busy device. A real
// store, commands and kernel connection talking socket.io to a gateway double.
import { afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { act, cleanup, fireEvent, screen, within } from "@testing-library/react";
import {
  deviceInMetadata,
  PLACEMENT_MIME,
  withDeviceInMetadata,
  type KernelPlacement,
  type Notebook,
  type NotebookRole,
} from "@cellar/protocol";
import { fromNotebook } from "@cellar/notebook-doc";
import { renderNotebook, startGateway, waitUntil } from "../../test-support/render-notebook";
import { stubGateway } from "../../test-support/render-with-gateway";
import { DocumentHubDouble } from "../../test-support/document-hub-double";
import { SharedNotebook } from "../collab/shared-notebook";
import { createNotebookStore } from "../notebook/notebook-store";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const H100 = { kind: "gpu" as const, model: "H100", count: 1 };

function notebook(
  cells: Array<{ id: string; source: string; metadata?: Record<string, unknown>; outputs?: Notebook["cells"][number]["outputs"] }>,
  extra: Partial<Notebook> & { role?: NotebookRole } = {},
): Notebook & { role?: NotebookRole } {
  return {
    id: "nb",
    userId: "u",
    title: "Training",
    createdAt: "",
    updatedAt: "",
    lastRunAt: null,
    metadata: {},
    cells: cells.map((c) => ({
      id: c.id,
      cell_type: "code",
      source: c.source,
      metadata: c.metadata ?? {},
      outputs: c.outputs ?? [],
      execution_count: null,
    })),
    ...extra,
  };
}

/** The fleet: a CPU worker and an H100 one. */
function stubFleet() {
  stubGateway({
    "GET /api/workers": {
      status: 200,
      body: [
        { id: "w1", resources: { cpus: 4, memoryBytes: 8e9, gpus: [], labels: {} }, sessions: 1 },
        {
          id: "gpu-1",
          resources: {
            cpus: 16,
            memoryBytes: 6.4e10,
            gpus: [{ index: 0, model: "NVIDIA H100 80GB HBM3", memoryBytes: 8e10, source: "nvidia-smi" }],
            labels: {},
          },
          sessions: 0,
        },
      ],
    },
  });
}

async function open(nb: Notebook & { role?: NotebookRole }) {
  const gw = await startGateway("idle");
  if (nb.role) gw.role = nb.role;
  const page = renderNotebook(gw, () => nb);
  await waitUntil(() => page.store.getState().kernel.status === "idle", "the notebook to open");
  return { gw, ...page };
}

const cellEl = (i: number) => screen.getAllByTestId("cell")[i]!;
const badgeOf = (i: number) => within(cellEl(i)).queryByTestId("cell-device-badge");
const pickerOf = (i: number) => within(cellEl(i)).getByTestId("cell-device-select") as HTMLSelectElement;

describe("a cell's device", () => {
  it("an editor picks a GPU model the fleet offers, with a count: stored in the cell's metadata and shown in its gutter", async () => {
    stubFleet();
    const { store } = await open(
      notebook([
        { id: "c1", source: "x = 1", metadata: { tags: ["keep"] } },
        { id: "c2", source: "y = 2" },
      ]),
    );
    expect(badgeOf(0)).toBeNull();
    await waitUntil(() => [...pickerOf(0).options].some((o) => o.textContent === "H100"), "the fleet's models");
    expect([...pickerOf(0).options].map((o) => o.textContent)).toEqual([
      "Notebook default (CPU)",
      "CPU",
      "any GPU",
      "H100",
      "Other GPU model…",
    ]);

    fireEvent.change(pickerOf(0), { target: { value: "model:H100" } });
    expect(deviceInMetadata(store.getState().cells[0].metadata)).toEqual(H100);
    expect(store.getState().cells[0].metadata.tags).toEqual(["keep"]);
    expect(badgeOf(0)?.textContent).toBe("H100");
    expect(badgeOf(1)).toBeNull();

    fireEvent.change(within(cellEl(0)).getByTestId("cell-device-count"), { target: { value: "2" } });
    expect(deviceInMetadata(store.getState().cells[0].metadata)).toEqual({ ...H100, count: 2 });
    expect(badgeOf(0)?.textContent).toBe("2 × H100");

    fireEvent.change(pickerOf(0), { target: { value: "gpu" } });
    expect(badgeOf(0)?.textContent).toBe("2 × GPU");

    fireEvent.change(pickerOf(0), { target: { value: "default" } });
    expect(store.getState().cells[0].metadata).toEqual({ tags: ["keep"] });
    expect(badgeOf(0)).toBeNull();
  });

  it("a model no worker lists can be typed; one that is not a device name is refused, nothing changed", async () => {
    const { store } = await open(notebook([{ id: "c1", source: "x = 1" }]));
    fireEvent.change(pickerOf(0), { target: { value: "other" } });
    const model = within(cellEl(0)).getByTestId("cell-device-model");
    fireEvent.change(model, { target: { value: "H100; rm -rf" } });
    fireEvent.keyDown(model, { key: "Enter" });
    expect(within(cellEl(0)).getByTestId("cell-device-error").textContent).toContain("is not a device name");
    expect(store.getState().cells[0].metadata).toEqual({});

    fireEvent.change(model, { target: { value: "2 x A100" } });
    fireEvent.keyDown(model, { key: "Enter" });
    expect(deviceInMetadata(store.getState().cells[0].metadata)).toEqual({ kind: "gpu", model: "A100", count: 2 });
    expect(badgeOf(0)?.textContent).toBe("2 × A100");
    expect(within(cellEl(0)).queryByTestId("cell-device-error")).toBeNull();
    // The typed model is offered from now on, and selected.
    expect(pickerOf(0).value).toBe("model:A100");
  });

  it("a %%gpu first line shows the same badge, and the picker says the line decides", async () => {
    await open(
      notebook([
        { id: "c1", source: "%%gpu H100\nimport torch", metadata: withDeviceInMetadata({}, { kind: "cpu" }) },
        { id: "c2", source: "%%gpu H100!!\nx" },
        { id: "c3", source: "%%cpu\nx", metadata: withDeviceInMetadata({}, H100) },
      ]),
    );
    expect(badgeOf(0)?.textContent).toBe("H100");
    expect(badgeOf(0)?.dataset.from).toBe("magic");
    expect(pickerOf(0).disabled).toBe(true);
    expect(badgeOf(1)?.textContent).toBe("%%gpu?");
    expect(badgeOf(1)?.title).toContain("not a device name");
    // %%cpu beats the cell's stored H100: a plain CPU cell, no badge.
    expect(badgeOf(2)).toBeNull();
    // The editor keeps the line as typed (python mode does not choke on it).
    expect(cellEl(0).querySelector(".cm-content")?.textContent).toContain("%%gpu H100");
  });

  it("a viewer sees each cell's device but is offered no picker", async () => {
    await open(
      notebook(
        [
          { id: "c1", source: "x", metadata: withDeviceInMetadata({}, H100) },
          { id: "c2", source: "y" },
        ],
        {
          role: "viewer",
          metadata: withDeviceInMetadata({}, { kind: "gpu", count: 1 }),
        },
      ),
    );
    expect(badgeOf(0)?.textContent).toBe("H100");
    expect(badgeOf(1)?.textContent).toBe("GPU");
    expect(screen.queryByTestId("cell-device-select")).toBeNull();
    expect(screen.queryByTestId("notebook-device-select")).toBeNull();
    expect(screen.getByTestId("notebook-device-readonly").textContent).toBe("Default device: any GPU");
  });
});

describe("the notebook's default device", () => {
  it("is read from the saved notebook; cells that name none follow it, a CPU cell says so", async () => {
    stubFleet();
    const { store } = await open(
      notebook(
        [
          { id: "c1", source: "x" },
          { id: "c2", source: "y", metadata: withDeviceInMetadata({}, { kind: "cpu" }) },
        ],
        {
          metadata: withDeviceInMetadata({ kernelspec: { name: "python3" } }, H100),
        },
      ),
    );
    const select = screen.getByTestId("notebook-device-select") as HTMLSelectElement;
    await waitUntil(() => select.value === "model:H100", "the saved default");
    expect(badgeOf(0)?.textContent).toBe("H100");
    expect(badgeOf(0)?.dataset.from).toBe("notebook");
    expect(badgeOf(1)?.textContent).toBe("CPU");
    expect(pickerOf(0).options[0].textContent).toBe("Notebook default (H100)");

    fireEvent.change(select, { target: { value: "default" } });
    expect(store.getState().notebookDevice).toBeUndefined();
    expect(badgeOf(0)).toBeNull();
    expect(badgeOf(1)).toBeNull();
  });

  it("collaborators see a cell's device and the notebook's default change live", async () => {
    stubFleet();
    const nb = notebook([
      { id: "c1", source: "x = 1" },
      { id: "c2", source: "y = 2" },
    ]);
    const hub = new DocumentHubDouble("nb", (doc) => fromNotebook({ title: nb.title, cells: nb.cells, metadata: nb.metadata }, doc));
    const join = (store: ReturnType<typeof createNotebookStore>) => {
      const shared = new SharedNotebook("nb", store);
      shared.retain();
      onTestFinished(() => shared.release());
      shared.attach(hub.connect());
      return shared;
    };
    const gw = await startGateway("idle");
    const mine = renderNotebook(gw, () => nb, { shared: join });
    const theirs = createNotebookStore(nb);
    const theirShared = join(theirs);
    await waitUntil(() => Boolean(mine.shared?.isSynced && theirShared.isSynced), "both pages to have the document");

    await waitUntil(() => [...pickerOf(1).options].some((o) => o.textContent === "H100"), "the fleet's models");
    fireEvent.change(pickerOf(1), { target: { value: "model:H100" } });
    await waitUntil(() => deviceInMetadata(theirs.getState().cells[1]?.metadata) !== undefined, "their page to hear it");
    expect(deviceInMetadata(theirs.getState().cells[1].metadata)).toEqual(H100);

    act(() => theirs.getState().setNotebookDevice({ kind: "gpu", model: "A100", count: 1 }));
    await waitUntil(() => badgeOf(0)?.textContent === "A100", "my page to show their default");
    expect((screen.getByTestId("notebook-device-select") as HTMLSelectElement).value).toBe("model:A100");
    expect(badgeOf(1)?.textContent).toBe("H100");
    expect(hub.doc.getMap("settings").get("device")).toEqual({ kind: "gpu", model: "A100", count: 1 });
  });
});

describe("where the kernel runs", () => {
  const placement = (p: Partial<KernelPlacement>): KernelPlacement => ({
    device: H100,
    workerId: "gpu-1",
    workerClass: "H100",
    isolation: "gvisor-nvproxy",
    ...p,
  });

  it("the status area names the device, worker and isolation the gateway placed the kernel on", async () => {
    const { gw, store } = await open(notebook([{ id: "c1", source: "x" }]));
    expect(screen.queryByTestId("kernel-placement")).toBeNull();
    gw.socket().emit("kernel:status", { notebookId: "nb", status: "idle", placement: placement({}) });
    await waitUntil(() => store.getState().placement !== null, "the placement");
    expect(screen.getByTestId("kernel-placement").textContent).toBe("H100 · gpu-1 · gVisor + nvproxy");

    gw.socket().emit("kernel:status", {
      notebookId: "nb",
      status: "idle",
      placement: placement({ device: { kind: "cpu" }, workerId: "w1", workerClass: "CPU", isolation: "gvisor" }),
    });
    await waitUntil(() => store.getState().placement?.workerId === "w1", "the move back");
    expect(screen.getByTestId("kernel-placement").textContent).toBe("CPU · w1");

    // A status without a placement (busy) leaves it; a restart means it is nowhere yet.
    gw.socket().emit("kernel:status", { notebookId: "nb", status: "busy" });
    await waitUntil(() => store.getState().kernel.status === "busy", "busy");
    expect(screen.getByTestId("kernel-placement").textContent).toBe("CPU · w1");
    gw.socket().emit("kernel:status", { notebookId: "nb", status: "restarting" });
    await waitUntil(() => store.getState().placement === null, "the restart");
    expect(screen.queryByTestId("kernel-placement")).toBeNull();
  });

  it("a cell's placement output is one line under its outputs, with the names that could not move", async () => {
    const p = {
      device: "H100",
      workerId: "gpu-1",
      workerClass: "H100",
      isolation: "gvisor-nvproxy",
      moved: { from: "w1", names: 3, bytes: 8e6, seconds: 0.4 },
      skipped: [{ name: "conn", type: "Connection", reason: "cannot pickle 'sqlite3.Connection' object" }],
    };
    await open(
      notebook([
        {
          id: "c1",
          source: "%%gpu H100\ny = x * 2",
          outputs: [
            { output_type: "display_data", data: { [PLACEMENT_MIME]: p, "text/plain": "ran on H100" }, metadata: {} },
            { output_type: "stream", name: "stdout", text: "done\n" },
          ],
        },
      ]),
    );
    const line = within(cellEl(0)).getByTestId("cell-placement");
    expect(line.textContent).toBe("ran on H100 · worker gpu-1 · gVisor + nvproxy · moved 3 names, 8.0 MB in 0.4 s");
    expect(within(cellEl(0)).getByTestId("cell-placement-skipped").textContent).toContain(
      "conn (Connection): cannot pickle 'sqlite3.Connection' object",
    );
  });
});

describe("a cell waiting for a busy device", () => {
  it("shows its place in line, follows it, and Cancel takes it out of the line", async () => {
    const { gw, store, kernel } = await open(
      notebook([
        { id: "c1", source: "%%gpu H100\nx" },
        { id: "c2", source: "y" },
      ]),
    );
    act(() => {
      kernel.run("c1", "%%gpu H100\nx");
      kernel.run("c2", "y");
    });
    await waitUntil(() => gw.sent.length === 1, "the run");
    gw.socket().emit("cell:queued", { notebookId: "nb", cellId: "c1", device: H100, position: 2 });
    await waitUntil(() => screen.queryByTestId("cell-queued-wait") !== null, "the line");
    expect(within(cellEl(0)).getByTestId("cell-queued-text").textContent).toBe("Waiting for H100 — 2nd in line");
    gw.socket().emit("cell:queued", { notebookId: "nb", cellId: "c1", device: H100, position: 1 });
    await waitUntil(() => screen.getByTestId("cell-queued-text").textContent === "Waiting for H100 — 1st in line", "the line to move");

    fireEvent.click(screen.getByTestId("cell-queued-cancel"));
    await waitUntil(() => gw.cancelled.length === 1 && !store.getState().running.c1, "the cancel");
    expect(gw.cancelled).toEqual(["c1"]);
    expect(screen.queryByTestId("cell-queued-wait")).toBeNull();
    // As with an interrupt, the run queued behind it is dropped, not sent.
    expect(store.getState().running.c2).toBeUndefined();
    expect(gw.sent).toHaveLength(1);
  });

  it("leaves the line when the gateway says it has (placed)", async () => {
    const { gw, kernel } = await open(notebook([{ id: "c1", source: "x" }]));
    act(() => kernel.run("c1", "x"));
    await waitUntil(() => gw.sent.length === 1, "the run");
    gw.socket().emit("cell:queued", { notebookId: "nb", cellId: "c1", device: { kind: "gpu", count: 2 }, position: 3 });
    await waitUntil(() => screen.queryByTestId("cell-queued-text")?.textContent === "Waiting for 2 × any GPU — 3rd in line", "the line");
    gw.socket().emit("cell:queued", { notebookId: "nb", cellId: "c1", device: { kind: "gpu", count: 2 }, position: 0 });
    await waitUntil(() => screen.queryByTestId("cell-queued-wait") === null, "the line to go");
  });
});
