import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { deviceInMetadata, withDeviceInMetadata } from "@cellar/protocol";
import { applyCells, fromNotebook, toCells } from "./doc";
import { docNotebookDevice, metadataWithSettings, notebookDevice, setNotebookDevice } from "./settings";

const H100 = { kind: "gpu" as const, model: "H100", count: 1 };

function replicaOf(doc: Y.Doc): Y.Doc {
  const other = new Y.Doc();
  Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
  doc.on("update", (update: Uint8Array) => Y.applyUpdate(other, update));
  return other;
}

describe("the notebook's default device", () => {
  it("is seeded from the saved metadata, and a change reaches another replica", () => {
    const doc = fromNotebook({ title: "t", cells: [], metadata: { cellar: { device: H100 }, kernelspec: { name: "python3" } } });
    const other = replicaOf(doc);
    expect(notebookDevice(other, undefined)).toEqual(H100);
    setNotebookDevice(doc, { kind: "gpu", count: 2 });
    expect(notebookDevice(other, undefined)).toEqual({ kind: "gpu", count: 2 });
  });

  it("set to no default in the document, the saved metadata's no longer counts", () => {
    const saved = withDeviceInMetadata({}, H100);
    const doc = fromNotebook({ title: "t", cells: [] });
    expect(docNotebookDevice(doc)).toBeUndefined();
    expect(notebookDevice(doc, saved)).toEqual(H100);
    setNotebookDevice(doc, null);
    expect(notebookDevice(doc, saved)).toBeUndefined();
    expect(metadataWithSettings({ ...saved, kernelspec: { name: "python3" } }, doc)).toEqual({ kernelspec: { name: "python3" } });
  });

  it("is written into the notebook's metadata for a write-back or an export, other keys kept", () => {
    const doc = fromNotebook({ title: "t", cells: [] });
    expect(metadataWithSettings({ kernelspec: { name: "python3" } }, doc)).toEqual({ kernelspec: { name: "python3" } });
    setNotebookDevice(doc, H100);
    const metadata = metadataWithSettings({ kernelspec: { name: "python3" }, cellar: { other: 1 } }, doc);
    expect(metadata).toEqual({ kernelspec: { name: "python3" }, cellar: { other: 1, device: H100 } });
    expect(deviceInMetadata(metadata)).toEqual(H100);
  });

  it("an unreadable value counts as no default", () => {
    const doc = fromNotebook({ title: "t", cells: [] });
    doc.getMap("settings").set("device", { kind: "tpu" });
    expect(docNotebookDevice(doc)).toBeNull();
    expect(notebookDevice(doc, withDeviceInMetadata({}, H100))).toBeUndefined();
  });
});

describe("a cell's device", () => {
  it("lives in the cell's metadata in the document and reaches another replica", () => {
    const doc = fromNotebook({ title: "t", cells: [{ id: "a", cell_type: "code", source: "x = 1" }] });
    const other = replicaOf(doc);
    applyCells(doc, [{ id: "a", cell_type: "code", source: "x = 1", metadata: withDeviceInMetadata({ tags: ["t"] }, H100) }]);
    expect(deviceInMetadata(toCells(other)[0].metadata)).toEqual(H100);
    expect(toCells(other)[0].metadata.tags).toEqual(["t"]);
  });
});
