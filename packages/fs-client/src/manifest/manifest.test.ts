import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  buildManifest,
  decodeManifest,
  encodeManifest,
  formatDaemonIndex,
  manifestImageId,
  isNormalPath,
  normalizePath,
  readDaemonIndex,
  writeDaemonIndex,
  type ManifestEntry,
} from "./index";

const H1 = "a".repeat(64);
const H2 = "b".repeat(64);

function file(path: string, size: number, chunks: string[]): ManifestEntry {
  return { path, type: "file", mode: 0o644, uid: 1000, gid: 1000, size, mtime: 1700000000, chunks };
}

describe("manifest", () => {
  it("sorts entries, adds the root and missing parents, and has a stable id", () => {
    const a = buildManifest([file("/usr/lib/x", 3, [H1]), file("/etc/passwd", 4, [H2])], 4);
    const b = buildManifest([file("/etc/passwd", 4, [H2]), file("/usr/lib/x", 3, [H1])], 4);
    expect(a.entries.map((e) => e.path)).toEqual(["/", "/etc", "/etc/passwd", "/usr", "/usr/lib", "/usr/lib/x"]);
    expect(encodeManifest(a).equals(encodeManifest(b))).toBe(true);
    expect(manifestImageId(a)).toMatch(/^[0-9a-f]{64}$/);
    const changed = buildManifest([file("/etc/passwd", 4, [H2]), file("/usr/lib/x", 3, [H2])], 4);
    expect(manifestImageId(changed)).not.toBe(manifestImageId(a));
    expect(decodeManifest(encodeManifest(a))).toEqual(a);
  });

  it("rejects paths outside the root and files whose chunks do not cover their size", () => {
    expect(() => normalizePath("a/../../etc")).toThrow(/escapes/);
    expect(normalizePath("./a//b/")).toBe("/a/b");
    expect(() => buildManifest([file("/big", 10, [H1])], 4)).toThrow(/chunk count/);
  });
});

describe("daemon index", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("writes the exact line format the native daemon reads", () => {
    const m = buildManifest(
      [
        file("/a b", 5, [H1, H2]),
        { path: "/link", type: "symlink", mode: 0o777, uid: 0, gid: 0, size: 3, mtime: 12, target: "a b" },
        file("/empty", 0, []),
      ],
      4,
    );
    expect(formatDaemonIndex(m)).toBe(
      [
        "cellar-index 1 4",
        "/\t40755\t0\t0\t0\t0\t-\t-",
        `/a b\t100644\t1000\t1000\t5\t1700000000\t-\t${H1},${H2}`,
        "/empty\t100644\t1000\t1000\t0\t1700000000\t-\t-",
        "/link\t120777\t0\t0\t3\t12\ta b\t-",
        "",
      ].join("\n"),
    );
  });

  it("round-trips weird paths: tabs, newlines, CR, percent signs, unicode", async () => {
    dir = await mkdtemp(join(tmpdir(), "cellar-index-"));
    const weird = ["/tab\there", "/nl\nhere", "/cr\rhere", "/100%", "/ünïcødé 🐍", "/ctl\x01\x1f"];
    const m = buildManifest([
      ...weird.map((p) => file(p, 1, [H1])),
      { path: "/dash", type: "symlink", mode: 0o777, uid: 0, gid: 0, size: 1, mtime: 0, target: "-" },
      { path: "/odd", type: "symlink", mode: 0o777, uid: 0, gid: 0, size: 6, mtime: 0, target: "x\ty%\n" },
    ]);
    const text = formatDaemonIndex(m);
    // Every entry is one line of 8 fields, whatever its name holds.
    expect(text.trimEnd().split("\n")).toHaveLength(m.entries.length + 1);
    expect(text).toContain("/tab%09here\t");
    expect(text).toContain("/100%25\t");
    expect(text).toContain("/ünïcødé 🐍\t");
    const f = join(dir, "image.idx");
    await writeDaemonIndex(m, f);
    const back = await readDaemonIndex(f);
    expect(back.chunkSize).toBe(m.chunkSize);
    expect(back.entries.map((e) => e.path)).toEqual(m.entries.map((e) => e.path));
    expect(back.entries.find((e) => e.path === "/dash")!.target).toBe("-");
    expect(back.entries.find((e) => e.path === "/odd")!.target).toBe("x\ty%\n");
    expect(back.entries.find((e) => e.path === "/tab\there")!).toEqual({
      path: "/tab\there",
      mode: 0o100644,
      uid: 1000,
      gid: 1000,
      size: 1,
      mtime: 1700000000,
      target: null,
      chunks: [H1],
    });
  });
});

describe("comparePaths", () => {
  it("orders paths by their UTF-8 bytes, astral characters and prefixes included", async () => {
    const { comparePaths } = await import("./manifest");
    const paths = ["/a/b", "/a", "/a/\u{1F600}", "/a/\uE000", "/a/é", "/a/z", "/a-b", "/a/\u{10000}x", "/"];
    const byBytes = [...paths].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...paths].sort(comparePaths)).toEqual(byBytes);
    expect(comparePaths("/a/\uE000", "/a/\u{1F600}")).toBeLessThan(0); // UTF-16 alone would say the opposite
  });
});

describe("isNormalPath", () => {
  it("accepts exactly the paths normalizePath leaves as they are", () => {
    const cases = [
      "/",
      "/a",
      "/a/b",
      "//a",
      "/a/",
      "/a/./b",
      "/a/../b",
      "/.",
      "/..",
      "/a/.",
      "/a/..",
      "a",
      "",
      "/.hidden",
      "/..x",
      "/a/...",
      "/a//b",
      "/ä/ö",
      "/a b/c",
    ];
    for (const c of cases) {
      let same: boolean;
      try {
        same = normalizePath(c) === c;
      } catch {
        same = false;
      }
      expect([c, isNormalPath(c)]).toEqual([c, same]);
    }
  });
});
