import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MoveFiles, moveDirIn } from "./move-files";
import { startMoveServer } from "./move-server";

let home: string;
beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), "cellar-move-files-"));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

/** A workspace whose kernel has exported move `id`. */
async function exported(id: string, files: Record<string, string>): Promise<string> {
  const ws = path.join(home, "workspaces", "nb");
  await mkdir(moveDirIn(ws, id), { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(moveDirIn(ws, id), name), text);
  await writeFile(path.join(ws, "notes.txt"), "the user's");
  return ws;
}

describe("a move's files between two workers", () => {
  it("are taken out of the old workspace, read in pieces, written in any order and put where the new kernel reads them", async () => {
    const ws = await exported("m1", { "manifest.json": "{}", "00000.buf": "0123456789" });
    const old = new MoveFiles(path.join(home, "old"));
    const files = await old.takeOut(ws, "m1");
    expect(files).toEqual([
      { name: "00000.buf", size: 10 },
      { name: "manifest.json", size: 2 },
    ]);
    expect(await readdir(ws)).toEqual([".cellar", "notes.txt"]);
    expect((await old.read("m1", "00000.buf", 8, 4)).toString()).toBe("89");

    const next = new MoveFiles(path.join(home, "next"), process.getuid?.() === 0 ? { uid: 1000, gid: 1000 } : undefined);
    await next.write("m1", "00000.buf", 5, await old.read("m1", "00000.buf", 5, 5));
    await next.write("m1", "00000.buf", 0, await old.read("m1", "00000.buf", 0, 5));
    await next.write("m1", "manifest.json", 0, await old.read("m1", "manifest.json", 0, 100));
    const other = path.join(home, "next-ws");
    expect(await next.placeIn(other, "m1")).toBe(true);
    expect(await readFile(path.join(moveDirIn(other, "m1"), "00000.buf"), "utf8")).toBe("0123456789");
    if (process.getuid?.() === 0) expect((await stat(path.join(moveDirIn(other, "m1"), "00000.buf"))).uid).toBe(1000);
    // A move that brought nothing (a local one) is left to the workspace.
    expect(await next.placeIn(other, "m2")).toBe(false);

    await old.drop("m1");
    await expect(old.read("m1", "00000.buf", 0, 1)).rejects.toThrow(/ENOENT/);
  });

  it("refuse names that are not plain file names, and folders in an export", async () => {
    const ws = await exported("m1", { "00000.pkl": "x" });
    await mkdir(path.join(moveDirIn(ws, "m1"), "sub"));
    const moves = new MoveFiles(path.join(home, "w"));
    await expect(moves.takeOut(ws, "m1")).rejects.toThrow('unexpected entry "sub" in the move');
    await expect(moves.read("m1", "../../etc/passwd", 0, 10)).rejects.toThrow("bad move file name");
    await expect(moves.write("m1", "a/b", 0, Buffer.from("x"))).rejects.toThrow("bad move file name");
    await expect(moves.write("m1", "big", 0, Buffer.alloc((8 << 20) + 1))).rejects.toThrow("is over");
  });

  it("left by an earlier run of the worker are forgotten when it starts", async () => {
    const w = path.join(home, "w");
    await mkdir(path.join(w, "moves", "out", "stale"), { recursive: true });
    const moves = new MoveFiles(w);
    const ws = await exported("m1", { "00000.pkl": "x" });
    await moves.takeOut(ws, "m1");
    expect(await readdir(path.join(w, "moves", "out"))).toEqual(["m1"]);
  });

  it("are fetched by the new worker from the old one's move server, with the move's token only", async () => {
    const big = Array.from({ length: 3 << 16 }, (_, i) => `${i}`.padStart(16, ".")).join("");
    const ws = await exported("m1", { "manifest.json": "{}", "00000.buf": big, "00001.pkl": "" });
    const old = new MoveFiles(path.join(home, "old"));
    const token = "t".repeat(32);
    const files = await old.takeOut(ws, "m1", token);
    const server = await startMoveServer(old, { port: 0, advertiseHost: "127.0.0.1" });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/moves\/$/);
      // 1 MiB ranges: the 3 MiB file comes in three, fetched at once, put each in its place.
      const next = new MoveFiles(path.join(home, "next"), undefined, 1 << 20);
      await expect(next.fetch("m1", server.url, "w".repeat(32), files)).rejects.toThrow(/answered 404/);
      // A failed fetch leaves nothing half-written for the gateway's pieces to land on.
      expect(await readdir(path.join(home, "next", "moves", "in"))).toEqual([]);
      // A file that comes short of the size the export gave is no good either.
      const short = [{ name: "00000.buf", size: big.length + 100 }];
      await expect(next.fetch("m1", server.url, token, short)).rejects.toThrow(/00000\.buf came with 0 of the 100 bytes at 3145728/);
      expect(await readdir(path.join(home, "next", "moves", "in"))).toEqual([]);
      expect(await next.fetch("m1", server.url, token, files)).toBe(big.length + 2);
      const other = path.join(home, "next-ws");
      await next.placeIn(other, "m1");
      expect(await readFile(path.join(moveDirIn(other, "m1"), "00000.buf"), "utf8")).toBe(big);
      expect(await readFile(path.join(moveDirIn(other, "m1"), "00001.pkl"), "utf8")).toBe("");
      // Once dropped, the move is served to no one.
      await old.drop("m1");
      await expect(new MoveFiles(path.join(home, "third")).fetch("m1", server.url, token, files)).rejects.toThrow(/answered 404/);
      // Nothing but a move's files: no other path, no climbing out.
      const res = await fetch(`${server.url}m1/..%2F..%2Fworkspaces`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
