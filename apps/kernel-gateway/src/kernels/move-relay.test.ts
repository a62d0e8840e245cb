// relayMoveFiles over real socket.io connections: two "workers" dial a server, one serving the
// move's bytes from memory, the other collecting what it is written.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Server } from "socket.io";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import type { GatewayToWorker, WorkerToGateway } from "@cellar/protocol";
import type { WorkerSocket } from "../workers/worker-pool";
import { MoveRelayError, relayMoveFiles } from "./move-relay";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Two connected workers, as the gateway sees them; `old` serves `files`, `next` keeps writes. */
async function twoWorkers(files: Record<string, Buffer>, opts: { failWriteAt?: number; silentWrites?: boolean } = {}) {
  const http = createServer();
  const server = new Server<WorkerToGateway, GatewayToWorker>(http, { maxHttpBufferSize: 64 << 20 });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const sockets = new Map<string, WorkerSocket>();
  server.on("connection", (s) => sockets.set(String(s.handshake.auth.id), s));
  const dial = (id: string) => connect(url, { auth: { id }, transports: ["websocket"], forceNew: true });
  const old: ClientSocket = dial("old");
  const next: ClientSocket = dial("next");
  cleanups.push(() => {
    old.close();
    next.close();
    void server.close();
  });
  const reads: Array<{ name: string; offset: number; length: number }> = [];
  old.on("move:read", (p: { name: string; offset: number; length: number }, ack: (r: unknown) => void) => {
    reads.push(p);
    const file = files[p.name];
    if (!file) return ack({ ok: false, error: `no file ${p.name}` });
    ack({ ok: true, data: file.subarray(p.offset, p.offset + p.length) });
  });
  const written = new Map<string, Buffer>();
  next.on("move:write", (p: { name: string; offset: number; data: Buffer }, ack: (r: unknown) => void) => {
    if (opts.silentWrites) return;
    if (opts.failWriteAt !== undefined && p.offset >= opts.failWriteAt) return ack({ ok: false, error: "No space left on device" });
    const was = written.get(p.name) ?? Buffer.alloc(0);
    const grown = Buffer.alloc(Math.max(was.length, p.offset + p.data.length));
    was.copy(grown);
    Buffer.from(p.data).copy(grown, p.offset);
    written.set(p.name, grown);
    ack({ ok: true });
  });
  await new Promise<void>((r) => {
    const wait = () => (sockets.size === 2 ? r() : setTimeout(wait, 5));
    wait();
  });
  return { from: { id: "old", socket: sockets.get("old")! }, to: { id: "next", socket: sockets.get("next")! }, reads, written, next };
}

describe("carrying a move's files from the old worker to the new one", () => {
  it("copies every byte of every file in pieces of at most 4 MiB, empty files included", async () => {
    const big = randomBytes((9 << 20) + 123);
    const files = { "00000.buf": big, "00000.pkl": Buffer.from("pickle"), "00001.pkl": Buffer.alloc(0) };
    const w = await twoWorkers(files);
    const list = Object.entries(files).map(([name, b]) => ({ name, size: b.length }));
    expect(await relayMoveFiles(w.from, w.to, "m1", list, { pieceTimeoutMs: 10_000 })).toBe(big.length + 6);
    expect(w.written.get("00000.buf")!.equals(big)).toBe(true);
    expect(w.written.get("00000.pkl")!.toString()).toBe("pickle");
    expect(w.written.get("00001.pkl")).toEqual(Buffer.alloc(0));
    expect(Math.max(...w.reads.map((r) => r.length))).toBe(4 << 20);
    // The empty file is written, never read.
    expect(w.reads.map((r) => r.name)).not.toContain("00001.pkl");
  });

  it("fails with the worker's reason when a piece cannot be written, and stops copying", async () => {
    const big = randomBytes(40 << 20);
    const w = await twoWorkers({ "00000.buf": big }, { failWriteAt: 4 << 20 });
    const relay = relayMoveFiles(w.from, w.to, "m2", [{ name: "00000.buf", size: big.length }], { pieceTimeoutMs: 10_000 });
    await expect(relay).rejects.toThrow(MoveRelayError);
    await expect(relay).rejects.toThrow("worker next could not write 00000.buf of the move: No space left on device");
    // Four pieces in flight at most when it failed, not all ten read.
    expect(w.reads.length).toBeLessThan(10);
  });

  it("fails when the old worker has lost the file", async () => {
    const w = await twoWorkers({});
    await expect(relayMoveFiles(w.from, w.to, "m3", [{ name: "00000.buf", size: 10 }], { pieceTimeoutMs: 10_000 })).rejects.toThrow(
      "worker old could not read 00000.buf of the move: no file 00000.buf",
    );
  });

  it("fails at once when the new worker goes away mid-move, not when the piece's time is up", async () => {
    const w = await twoWorkers({ "00000.buf": randomBytes(1 << 20) }, { silentWrites: true });
    const began = Date.now();
    const relay = relayMoveFiles(w.from, w.to, "m4", [{ name: "00000.buf", size: 1 << 20 }], { pieceTimeoutMs: 30_000 });
    setTimeout(() => w.next.close(), 200);
    await expect(relay).rejects.toThrow("worker next could not write 00000.buf of the move: it disconnected");
    expect(Date.now() - began).toBeLessThan(10_000);
  });
});
