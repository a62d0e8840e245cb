import { describe, expect, it } from "vitest";
import { formatBytes, imageRows, sharingText } from "./image-rows";

const ID = (c: string) => c.repeat(64);
const IMAGES = [
  { name: "tables", description: "saved", imageId: ID("c"), parent: "base", packages: ["tabulate==0.9.0"], layerBytes: 120_000 },
  {
    name: "pip-0123456789ab",
    description: "base + tabulate",
    imageId: ID("c"),
    parent: "base",
    packages: ["tabulate==0.9.0"],
    layerBytes: 120_000,
  },
  {
    name: "networkx",
    description: "base plus networkx",
    imageId: ID("b"),
    parent: "base",
    packages: ["python3-networkx"],
    layerBytes: 9 * 2 ** 20,
  },
  { name: "base", description: "Debian", imageId: ID("a"), packages: ["python3", "python3-numpy"] },
  {
    name: "stats",
    description: "over networkx",
    imageId: ID("d"),
    parent: "networkx",
    packages: ["statsmodels==0.14.1"],
    layerBytes: 2048,
  },
  { name: "orphan", description: "its parent went", imageId: ID("e"), parent: "gone", packages: ["x==1"], layerBytes: 10 },
];

describe("imageRows", () => {
  const rows = imageRows(IMAGES);
  const row = (name: string) => rows.find((r) => r.name === name)!;

  it("orders the tree parents first, named layers before the notebooks' own", () => {
    expect(rows.map((r) => [r.name, r.depth])).toEqual([
      ["base", 0],
      ["networkx", 1],
      ["stats", 2],
      ["tables", 1],
      ["pip-0123456789ab", 1],
      ["orphan", 0],
    ]);
  });

  it("tells roots, layers and %pip's images apart, and Debian from pip packages", () => {
    expect([row("base").kind, row("networkx").kind, row("pip-0123456789ab").kind]).toEqual(["root", "layer", "notebook"]);
    expect([row("base").packageKind, row("networkx").packageKind, row("tables").packageKind]).toEqual(["debian", "debian", "pip"]);
    expect(row("base").shortId).toBe("aaaaaaaaaaaa");
  });

  it("says what each shares: its ancestors' files, the same layer under two names, what is built over it", () => {
    expect(sharingText(row("base"))).toBe("a whole tree of its own; under networkx, tables, pip-0123456789ab");
    expect(sharingText(row("stats"))).toBe("reads networkx's and base's files, adds its own");
    expect(sharingText(row("tables"))).toBe("reads base's files, adds its own; the very same files as pip-0123456789ab");
    expect(sharingText(row("pip-0123456789ab"))).toBe(
      "made by %pip in a notebook; reads base's files, adds its own; the very same files as tables",
    );
    expect(sharingText(row("orphan"))).toBe("layer over gone (not on this gateway now)");
  });
});

describe("formatBytes", () => {
  it("reads like the gateway's own build lines", () => {
    expect([formatBytes(null), formatBytes(512), formatBytes(2048), formatBytes(9 * 2 ** 20), formatBytes(3 * 2 ** 30)]).toEqual([
      "—",
      "512 B",
      "2.0 KiB",
      "9.0 MiB",
      "3.00 GiB",
    ]);
  });
});
