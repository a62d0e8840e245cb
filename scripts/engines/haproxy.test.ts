import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Server } from "socket.io";
import { io as connect } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HAPROXY_MONITOR_PATH, STICKY_COOKIE, startHaproxy, type HaproxyEngine } from "./haproxy";

/** A stand-in gateway: GET /api/ready answers `ready`, everything else says which replica it is;
 * socket.io on the same server, answering "who" with the replica's name. */
async function replica(name: string) {
  const state = { ready: true };
  const server = http.createServer((req, res) => {
    if (req.url === "/api/ready") res.writeHead(state.ready ? 200 : 503).end();
    else if (!req.url?.startsWith("/socket.io/")) res.writeHead(200, { "content-type": "text/plain" }).end(name);
  });
  const io = new Server(server);
  io.on("connection", (socket) => socket.on("who", (ack: (n: string) => void) => ack(name)));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    state,
    close: () => new Promise<void>((r) => io.close(() => r())),
  };
}

describe("startHaproxy", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-engine-haproxy-"));
  let replicas: Awaited<ReturnType<typeof replica>>[];
  let proxy: HaproxyEngine;
  beforeAll(async () => {
    replicas = await Promise.all(["gateway-1", "gateway-2"].map(replica));
    proxy = await startHaproxy({ dir, backends: replicas });
  });
  afterAll(async () => {
    await proxy?.stop();
    await Promise.all(replicas.map((r) => r.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (cookie?: string) => fetch(proxy.url + "/x", { headers: cookie ? { cookie } : {} });

  it("answers its own monitor path, spreads new clients over the replicas and sticks each to its replica by cookie", async () => {
    expect((await fetch(proxy.url + HAPROXY_MONITOR_PATH)).status).toBe(200);
    const first = await get();
    const second = await get();
    const names = [await first.text(), await second.text()];
    expect(new Set(names)).toEqual(new Set(["gateway-1", "gateway-2"]));
    const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
    expect(cookie).toBe(`${STICKY_COOKIE}=${names[0]}`);
    for (let i = 0; i < 4; i++) expect(await (await get(cookie)).text()).toBe(names[0]);
  });

  it("passes websockets through (socket.io, websocket transport only, as workers connect)", async () => {
    const socket = connect(proxy.url, { transports: ["websocket"], reconnection: false });
    try {
      const who = await socket.timeout(5000).emitWithAck("who");
      expect(["gateway-1", "gateway-2"]).toContain(who);
    } finally {
      socket.close();
    }
  });

  it("takes a replica that is not ready out, and sends its sticky clients to another one", async () => {
    replicas[0]!.state.ready = false;
    try {
      // Checked every second, out after two failures.
      await new Promise((r) => setTimeout(r, 3500));
      for (let i = 0; i < 4; i++) expect(await (await get()).text()).toBe("gateway-2");
      const moved = await get(`${STICKY_COOKIE}=gateway-1`);
      expect(await moved.text()).toBe("gateway-2");
      expect(moved.headers.get("set-cookie")).toMatch(`${STICKY_COOKIE}=gateway-2`);
    } finally {
      replicas[0]!.state.ready = true;
    }
  });

  it("refuses a backend name HAProxy could not take", async () => {
    await expect(startHaproxy({ dir, backends: [{ name: "a b", port: 1 }] })).rejects.toThrow(/letters, digits/);
  });
});
