// A workspace stored by one worker and laid out by another, through a real CAS over HTTP
// (fs-client's blob handler on a local directory). Runs as root (owners are set from the manifest).
import { chown, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BlobFetcher, createBlobHandler, LocalDirStore } from "@cellar/fs-client";
import { layOutWorkspace, storeWorkspace } from "./workspace-transfer";

const TOKEN = "Bearer workspace-transfer-test";
let work: string;
let server: Server;
let fetcher: BlobFetcher;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "cellar-workspace-transfer-"));
  const authorize = (req: { headers: { authorization?: string } }) => req.headers.authorization === TOKEN;
  const handle = createBlobHandler(new LocalDirStore(path.join(work, "cas")), { authorize, authorizeWrite: authorize });
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  fetcher = new BlobFetcher({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, authorization: TOKEN });
});

afterAll(async () => {
  fetcher?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (work) await rm(work, { recursive: true, force: true });
});

it("lays out exactly the stored files, with owners, modes and symlinks; keeps unchanged local files and drops deleted ones", async () => {
  const a = path.join(work, "a", "nb");
  const b = path.join(work, "b", "nb");
  await mkdir(path.join(a, "data"), { recursive: true });
  const big = Buffer.alloc(9 * 1024 * 1024, 7); // three chunks of 4 MiB
  await writeFile(path.join(a, "data", "big.bin"), big);
  await writeFile(path.join(a, "notes.txt"), "first", { mode: 0o640 });
  await symlink("data/big.bin", path.join(a, "link"));
  for (const p of ["data", "data/big.bin", "notes.txt", ""]) await chown(path.join(a, p), 1000, 1000);

  // The other worker had an older copy: big.bin unchanged, notes.txt different, old.txt deleted on A since.
  await mkdir(path.join(b, "data"), { recursive: true });
  await writeFile(path.join(b, "data", "big.bin"), big);
  await writeFile(path.join(b, "notes.txt"), "older");
  await writeFile(path.join(b, "old.txt"), "deleted on the other side");

  const id = await storeWorkspace(a, fetcher);
  const stats = await layOutWorkspace(id, b, fetcher);

  expect((await readdir(b)).sort()).toEqual(["data", "link", "notes.txt"]);
  expect(await readFile(path.join(b, "notes.txt"), "utf8")).toBe("first");
  expect((await readFile(path.join(b, "data", "big.bin"))).equals(big)).toBe(true);
  expect(await readlink(path.join(b, "link"))).toBe("data/big.bin");
  const notes = await lstat(path.join(b, "notes.txt"));
  expect([notes.uid, notes.gid, notes.mode & 0o7777]).toEqual([1000, 1000, 0o640]);
  expect((await lstat(b)).uid).toBe(1000);
  expect(stats).toEqual({ fetchedFiles: 1, fetchedBytes: 5, keptFiles: 1, keptBytes: big.length });
  // Nothing of the build is left beside the workspace.
  expect(await readdir(path.dirname(b))).toEqual(["nb"]);
});

it("leaves the workspace as it was when the manifest cannot be fetched", async () => {
  const b = path.join(work, "c", "nb");
  await mkdir(b, { recursive: true });
  await writeFile(path.join(b, "keep.txt"), "mine");
  await expect(layOutWorkspace("0".repeat(64), b, fetcher)).rejects.toThrow();
  expect(await readdir(path.dirname(b))).toEqual(["nb"]);
  expect(await readFile(path.join(b, "keep.txt"), "utf8")).toBe("mine");
});
