// Two gateway socket servers sharing a real redis-server (started here): a room spans both.
import type { ChildProcess } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WORKER_NAMESPACE } from "@cellar/protocol";
import { startRedis } from "../testing/gateway-harness";
import { createSocketServer } from "./socket-server";

const TOKEN = "t";
let redis: ChildProcess;
let redisUrl: string;

async function gatewaySockets(log?: (line: string) => void) {
  const server = http.createServer();
  // Pages are let in by the token; who they are does not matter to rooms.
  const identity = {
    resolve: async (req: { headers: { authorization?: string } }) =>
      req.headers.authorization === `Bearer ${TOKEN}`
        ? { user: { id: "u", name: "U", email: null, role: "owner" as const, createdAt: new Date() } }
        : null,
  };
  const sockets = createSocketServer(server, identity, { roleOf: async () => null }, redisUrl, log);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ...sockets,
    url,
    close: async () => {
      await new Promise<void>((r) => sockets.io.close(() => r()));
      await sockets.redis?.close();
    },
  };
}

const until = async (check: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};

let port: number;
const restartRedis = async () => {
  const started = await startRedis(port);
  redis = started.process;
  port = started.port;
  redisUrl = started.url;
};
beforeAll(restartRedis);
afterAll(() => {
  redis?.kill("SIGKILL");
});

describe("gateways sharing Redis", () => {
  it("an event for a room on one gateway reaches the room's sockets on the other, for pages and workers alike", async () => {
    const a = await gatewaySockets();
    const b = await gatewaySockets();
    const clients: Socket[] = [];
    try {
      await until(() => a.redis?.problem() === null && b.redis?.problem() === null, "both Redis links");
      a.io.on("connection", (s) => void s.join("notebook:nb1"));
      a.workers.on("connection", (s) => void s.join("worker:w1"));
      const page = connect(a.url, { transports: ["websocket"], extraHeaders: { authorization: `Bearer ${TOKEN}` } });
      const worker = connect(new URL(WORKER_NAMESPACE, a.url).toString(), { transports: ["websocket"] });
      clients.push(page, worker);
      const seen: string[] = [];
      page.on("kernel:status", (p: { status: string }) => seen.push(`page ${p.status}`));
      worker.on("session:interrupt", (p: { sessionId: string }) => seen.push(`worker ${p.sessionId}`));
      await until(async () => (await b.io.in("notebook:nb1").fetchSockets()).length === 1, "the page's room seen from B");
      await until(async () => (await b.workers.in("worker:w1").fetchSockets()).length === 1, "the worker's room seen from B");
      b.io.to("notebook:nb1").emit("kernel:status", { notebookId: "nb1", status: "idle" });
      b.workers.to("worker:w1").emit("session:interrupt", { sessionId: "s1" });
      await until(() => seen.length === 2, "both events");
      expect(seen.sort()).toEqual(["page idle", "worker s1"]);
    } finally {
      for (const c of clients) c.close();
      await a.close();
      await b.close();
    }
  });

  it("says what is wrong while Redis is away, without crashing, and recovers when it is back", async () => {
    const a = await gatewaySockets();
    try {
      await until(() => a.redis?.problem() === null, "the Redis link");
      redis.kill("SIGKILL");
      await until(() => a.redis?.problem() !== null, "the link to drop");
      expect(a.redis?.problem()).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+ is (connecting|reconnecting|close)/);
      await restartRedis();
      await until(() => a.redis?.problem() === null, "the link to come back");
    } finally {
      await a.close();
    }
  });

  it("shuts down while Redis is away instead of waiting for it", async () => {
    const a = await gatewaySockets();
    await until(() => a.redis?.problem() === null, "the Redis link");
    redis.kill("SIGKILL");
    await until(() => a.redis?.problem() !== null, "the link to drop");
    a.io.to("notebook:nb1").emit("kernel:status", { notebookId: "nb1", status: "idle" });
    // A QUIT would wait in ioredis's queue for a Redis that is not coming: the test's timeout.
    await a.close();
    await restartRedis();
  });

  it("says so when a message to the other replicas goes out as it shuts down, instead of dying of it", async () => {
    const lines: string[] = [];
    const a = await gatewaySockets((line) => lines.push(line));
    await until(() => a.redis?.problem() === null, "the Redis link");
    const closing = a.redis?.close();
    // As a page's socket leaving during shutdown would: the adapter publishes it after the QUIT.
    a.io.to("notebook:nb1").emit("kernel:status", { notebookId: "nb1", status: "idle" });
    await closing;
    await until(() => lines.length > 0, "the line about it");
    expect(lines).toEqual([expect.stringMatching(/a message to the other replicas was not sent: Connection is closed/)]);
    await new Promise<void>((r) => a.io.close(() => r()));
  });
});
