import { EventEmitter } from "node:events";
import net from "node:net";
import { io } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { gatewayReadiness } from "./gateway-readiness";
import { startHealthServer, WORKER_HEALTH_PATHS, type HealthServer, type Readiness } from "./health-server";

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function get(path: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${server!.port}${path}`, init);
  return { status: res.status, body: await res.json() };
}

describe("worker health server", () => {
  it("answers liveness always, and readiness only while ready, with the reason when not", async () => {
    let state: Readiness = { ready: false, reason: "not connected to the gateway at http://gw:8800 yet" };
    server = await startHealthServer({ port: 0, host: "127.0.0.1", readiness: () => state });
    expect(await get(WORKER_HEALTH_PATHS.live)).toEqual({ status: 200, body: { ok: true } });
    expect(await get(WORKER_HEALTH_PATHS.ready)).toEqual({
      status: 503,
      body: { error: "Not ready: not connected to the gateway at http://gw:8800 yet" },
    });
    state = { ready: true };
    expect(await get(WORKER_HEALTH_PATHS.ready)).toEqual({ status: 200, body: { ok: true } });
  });

  it("refuses other paths and methods", async () => {
    server = await startHealthServer({ port: 0, host: "127.0.0.1", readiness: () => ({ ready: true }) });
    expect((await get("/")).status).toBe(404);
    expect((await get("/api/health")).status).toBe(404);
    expect((await get(WORKER_HEALTH_PATHS.live, { method: "POST" })).status).toBe(405);
  });

  it("says which port it could not take", async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      await expect(startHealthServer({ port, host: "127.0.0.1", readiness: () => ({ ready: true }) })).rejects.toThrow(
        `health server on port ${port}: listen EADDRINUSE`,
      );
    } finally {
      taken.close();
    }
  });
});

describe("readiness from the gateway link", () => {
  it("follows connect and disconnect, naming the last problem", () => {
    // Stands in for the socket.io client socket: only `connected` and its three events are read.
    const link = Object.assign(new EventEmitter(), { connected: false });
    const readiness = gatewayReadiness(link, "http://gw:8800");
    expect(readiness()).toEqual({ ready: false, reason: "not connected to the gateway at http://gw:8800 yet" });
    link.connected = true;
    link.emit("connect");
    expect(readiness()).toEqual({ ready: true });
    link.connected = false;
    link.emit("disconnect", "transport close");
    expect(readiness()).toEqual({ ready: false, reason: "disconnected from the gateway at http://gw:8800 (transport close)" });
  });

  it("reports a real socket.io client's failure to reach a gateway", async () => {
    // A port that was just free: nothing answers there.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(probe.address() as net.AddressInfo).port}`;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const socket = io(url, { reconnection: false });
    try {
      const readiness = gatewayReadiness(socket, url);
      await new Promise((resolve) => socket.once("connect_error", resolve));
      const state = readiness();
      expect(state.ready).toBe(false);
      expect(!state.ready && state.reason).toMatch(new RegExp(`^cannot reach the gateway at ${url}: `));
    } finally {
      socket.close();
    }
  });
});
