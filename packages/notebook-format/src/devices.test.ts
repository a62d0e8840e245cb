// A notebook's devices survive the .ipynb round trip: each cell's choice and the notebook's default
// (`metadata.cellar.device`), and the placement line a cell showed (an output other tools read as text).
import { describe, expect, it } from "vitest";
import {
  deviceInMetadata,
  deviceOfCell,
  PLACEMENT_MIME,
  placementText,
  withDeviceInMetadata,
  type Cell,
  type Placement,
} from "@cellar/protocol";
import { fromIpynb, serializeIpynb, toIpynb } from "./convert";
import { parseIpynb, validateIpynb } from "./validate";

const H100 = { kind: "gpu" as const, model: "H100", count: 1 };
const placement: Placement = {
  device: "H100",
  workerId: "gpu-1",
  workerClass: "H100",
  isolation: "gvisor-nvproxy",
  moved: { from: "w1", names: 14, bytes: 2.1e9, seconds: 1.8 },
  skipped: [{ name: "sock", type: "socket", reason: "cannot pickle 'socket' object" }],
};

function cell(id: string, metadata: Record<string, unknown>, outputs: Cell["outputs"] = []): Cell {
  return { id, cell_type: "code", source: "x = 1", metadata, outputs, execution_count: outputs.length ? 1 : null };
}

describe("devices in an .ipynb", () => {
  const stored = {
    metadata: withDeviceInMetadata({ kernelspec: { name: "python3", display_name: "Python 3" } }, { kind: "gpu", count: 2 }),
    nbformatMinor: 5,
    cells: [
      cell("cpu", withDeviceInMetadata({}, { kind: "cpu" })),
      cell("h100", withDeviceInMetadata({ tags: ["train"] }, H100), [
        {
          output_type: "display_data",
          data: { [PLACEMENT_MIME]: placement, "text/plain": placementText(placement) },
          metadata: {},
        },
      ]),
      cell("default", {}),
    ],
  };

  it("exports each cell's device and the notebook's default as nbformat metadata (a valid notebook)", () => {
    const file = JSON.parse(serializeIpynb(toIpynb(stored)));
    expect(validateIpynb(file)).toMatchObject({ ok: true });
    expect(file.metadata.cellar).toEqual({ device: { kind: "gpu", count: 2 } });
    expect(file.metadata.kernelspec).toEqual({ name: "python3", display_name: "Python 3" });
    expect(file.cells.map((c: { metadata: Record<string, unknown> }) => c.metadata.cellar ?? null)).toEqual([
      { device: { kind: "cpu" } },
      { device: H100 },
      null,
    ]);
    // Other tools show the placement as its text.
    expect(file.cells[1].outputs[0].data["text/plain"]).toEqual([placementText(placement)]);
  });

  it("an import restores them: each cell runs where it did before", () => {
    const imported = fromIpynb(parseIpynb(serializeIpynb(toIpynb(stored))), { title: "t" });
    expect(deviceInMetadata(imported.metadata)).toEqual({ kind: "gpu", count: 2 });
    expect(imported.cells.map((c) => deviceOfCell(c.metadata, imported.metadata))).toEqual([
      { kind: "cpu" },
      H100,
      { kind: "gpu", count: 2 },
    ]);
    expect(imported.cells[1].metadata.tags).toEqual(["train"]);
    expect(imported.cells[1].outputs[0]).toMatchObject({ data: { [PLACEMENT_MIME]: placement } });
  });

  it("a notebook from another tool, without devices, runs on CPU", () => {
    const imported = fromIpynb(parseIpynb(serializeIpynb(toIpynb({ cells: [cell("a", {})] }))), { title: "t" });
    expect(deviceOfCell(imported.cells[0].metadata, imported.metadata)).toEqual({ kind: "cpu" });
  });
});
