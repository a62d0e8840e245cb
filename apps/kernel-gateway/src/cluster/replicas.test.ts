// Two real gateways (createGateway) sharing one database and a real redis-server: a page on
// replica A runs code on a kernel whose worker is connected to replica B, and sees its output.
// The worker here is a scripted socket.io client speaking the worker protocol (the real worker
// and sandbox are covered by the e2e suite's cluster test).
import type { ChildProcess } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newToken, SESSION_COOKIE, sessionExpiry, tokenId } from "../auth/session-tokens";
import { makeMessage } from "@cellar/protocol";
import { GatewayHarness, type Page, startRedis as startRedisOn, TOKEN, until } from "../testing/gateway-harness";

const harness = new GatewayHarness();
let redis: ChildProcess;
let redisPort: number | undefined;
let redisUrl: string;

const startGateway = () => harness.startGateway(redisUrl);
const scriptedWorker = harness.scriptedWorker.bind(harness);
const page = (url: string) => harness.page(url);
const printed = (p: Page) => p.printed();

/** Redis again on the same port, as after a restart. */
async function startRedis(): Promise<void> {
  const started = await startRedisOn(redisPort);
  redis = started.process;
  redisPort = started.port;
  redisUrl = started.url;
}

beforeAll(startRedis);
afterEach(() => harness.reset());
afterAll(async () => {
  redis?.kill();
  await harness.close();
});

describe("gateway replicas sharing Redis and a database", () => {
  it("a page on replica A starts a kernel on a worker connected to B, runs a cell and sees its output", async () => {
    const a = await startGateway();
    const b = await startGateway();
    const worker = scriptedWorker(b.url, "w-b");
    await until(() => worker.connected(), "the worker to connect to B");
    const notebook = await a.db.notebooks.create(a.db.localUserId, "across");

    const browser = page(a.url);
    await until(() => browser.workers() === 1, "replica A to count B's worker");
    const opened = await browser.open(notebook.id);
    expect(opened).toMatchObject({ ok: true });
    await until(() => worker.started.length === 1, "B's worker to be asked to start the kernel");
    await until(() => browser.statuses.includes("idle"), "the kernel's idle to reach the page on A");

    expect(await browser.run(notebook.id, "1 + 1", "cell-1")).toEqual({ ok: true });
    await until(() => printed(browser).includes("ran 1 + 1\n"), "the output to reach the page on A");
    // The kernel's row names B's worker; the outputs were recorded by B, the replica that relays it.
    expect(await a.db.kernels.get(notebook.id)).toMatchObject({ workerId: "w-b" });

    // A second page, on B, opens the same notebook: the same kernel, and it sees A's next run.
    const other = page(b.url);
    await until(() => other.socket.connected, "the page on B to connect");
    await other.open(notebook.id);
    expect(await browser.run(notebook.id, "2 + 2", "cell-1")).toEqual({ ok: true });
    await until(() => printed(other).includes("ran 2 + 2\n"), "A's run to show on the page on B");
    await until(() => printed(browser).includes("ran 2 + 2\n"), "and on A");
    expect(worker.started).toHaveLength(1);
    expect(printed(browser).filter((t) => t === "ran 2 + 2\n")).toHaveLength(1);
  }, 30_000);

  it("relays a page's comm messages to the kernel on another replica, and the kernel's answer to the pages on both", async () => {
    const a = await startGateway();
    const b = await startGateway();
    const worker = scriptedWorker(b.url, "w-b");
    await until(() => worker.connected(), "the worker to connect to B");
    const notebook = await a.db.notebooks.create(a.db.localUserId, "widgets across");
    const browser = page(a.url);
    await until(() => browser.workers() === 1, "replica A to count B's worker");
    await browser.open(notebook.id);
    await until(() => browser.statuses.includes("idle"), "the kernel to start on B's worker");
    const other = page(b.url);
    await until(() => other.socket.connected, "the page on B to connect");
    await other.open(notebook.id);

    const move = { ...makeMessage("comm_msg", { comm_id: "w1", data: { method: "update", state: { value: 7 } } }), buffers: ["AAH/"] };
    const sent = await browser.socket.timeout(10_000).emitWithAck("kernel:send", { notebookId: notebook.id, message: move });
    expect(sent).toEqual({ ok: true });
    await until(() => worker.received.some((m) => m.header.msg_id === move.header.msg_id), "the comm_msg to reach B's worker");
    expect(worker.received.find((m) => m.header.msg_id === move.header.msg_id)).toEqual(move);

    // The kernel's handler answers, parented to the page's message: both pages hear it.
    const echo = makeMessage("comm_msg", { comm_id: "w1", data: { method: "echo_update" } }, { channel: "iopub", parent: move });
    worker.socket.emit("session:message", { sessionId: worker.started[0], message: echo, seq: 1_000, epoch: "e1" });
    for (const p of [browser, other])
      await until(() => p.messages.some((m) => m.header.msg_id === echo.header.msg_id), "the kernel's comm_msg on both replicas' pages");
    expect(browser.messages.find((m) => m.header.msg_id === echo.header.msg_id)?.parent_header.msg_id).toBe(move.header.msg_id);
  }, 30_000);

  it("when the worker's replica dies and the worker redials another, that one adopts the kernel and the page goes on", async () => {
    const a = await startGateway();
    const b = await startGateway();
    const before = scriptedWorker(b.url, "w1");
    await until(() => before.connected(), "the worker to connect to B");
    const notebook = await a.db.notebooks.create(a.db.localUserId, "failover");
    const browser = page(a.url);
    await browser.open(notebook.id);
    await until(() => browser.statuses.includes("idle"), "the kernel to start on B's worker");
    await browser.run(notebook.id, "x = 1", "cell-1");
    await until(() => printed(browser).includes("ran x = 1\n"), "the first run's output");
    const sessionId = before.started[0];

    await b.gateway.close();
    // The same worker process, redialled to A with the kernel it still runs.
    const after = scriptedWorker(a.url, "w1", [{ sessionId, notebookId: notebook.id, status: "idle" }]);
    await until(() => after.connected(), "the worker to connect to A");
    await until(
      async () => (await a.db.kernels.get(notebook.id))?.workerId === "w1" && browser.statuses.at(-1) === "idle",
      "A to adopt the kernel",
    );
    expect(await browser.run(notebook.id, "print(x)", "cell-2")).toEqual({ ok: true });
    await until(() => printed(browser).includes("ran print(x)\n"), "the run after the failover");
    // Adopted, not started again: the kernel's variables are where they were.
    expect(after.started).toEqual([]);
    expect(after.ran).toEqual(["print(x)"]);
    expect(await a.db.kernels.get(notebook.id)).toMatchObject({ sessionId, workerId: "w1" });
  }, 30_000);

  it("places kernels on the least-loaded worker of the whole cluster, whichever replica the page is on", async () => {
    const a = await startGateway();
    const b = await startGateway();
    const onA = scriptedWorker(a.url, "wa");
    const onB = scriptedWorker(b.url, "wb");
    await until(() => onA.connected() && onB.connected(), "both workers to connect");
    const browser = page(a.url);
    await until(() => browser.workers() === 2, "replica A to count both workers");
    for (let i = 0; i < 4; i++) {
      const notebook = await a.db.notebooks.create(a.db.localUserId, `n${i}`);
      expect(await browser.open(notebook.id)).toMatchObject({ ok: true });
      await until(() => onA.started.length + onB.started.length === i + 1, `kernel ${i + 1} to start`);
    }
    expect([onA.started.length, onB.started.length]).toEqual([2, 2]);
  }, 30_000);

  it("a terminal opened through replica A on a kernel whose worker is on B shows its output on A", async () => {
    const a = await startGateway();
    const b = await startGateway();
    const worker = scriptedWorker(b.url, "w1");
    await until(() => worker.connected(), "the worker to connect to B");
    const notebook = await a.db.notebooks.create(a.db.localUserId, "terminal");
    const browser = page(a.url);
    await browser.open(notebook.id);
    await until(() => browser.statuses.includes("idle"), "the kernel to start on B's worker");
    const opened = await browser.socket.timeout(10_000).emitWithAck("terminal:open", { notebookId: notebook.id, cols: 80, rows: 24 });
    expect(opened).toMatchObject({ ok: true });
    await until(() => browser.terminal.includes("hello"), "the terminal's greeting on A");
    browser.socket.emit("terminal:input", {
      notebookId: notebook.id,
      terminalId: opened.terminalId,
      data: Buffer.from("ls").toString("base64"),
    });
    await until(() => browser.terminal.includes("ls"), "the echo of what was typed");
  }, 30_000);

  it("while Redis is down a replica says so at once for kernels it does not run, and works again once Redis is back", async () => {
    const a = await startGateway();
    const b = await startGateway();
    const worker = scriptedWorker(b.url, "w1");
    await until(() => worker.connected(), "the worker to connect to B");
    const notebook = await a.db.notebooks.create(a.db.localUserId, "redis");
    const browser = page(a.url);
    await browser.open(notebook.id);
    await until(() => browser.statuses.includes("idle"), "the kernel to start on B's worker");

    redis.kill("SIGKILL");
    await until(
      async () => (await fetch(`${a.url}/api/ready`, { headers: { authorization: `Bearer ${TOKEN}` } })).status === 503,
      "A's readiness to fail",
    );
    const started = Date.now();
    expect(await browser.run(notebook.id, "1", "cell-1")).toEqual({
      ok: false,
      error: expect.stringMatching(/replicas cannot be reached/),
    });
    expect(Date.now() - started).toBeLessThan(5_000);

    await startRedis();
    await until(
      async () => (await fetch(`${a.url}/api/ready`, { headers: { authorization: `Bearer ${TOKEN}` } })).status === 200,
      "A to reconnect to Redis",
      20_000,
    );
    expect(await browser.run(notebook.id, "2", "cell-1")).toEqual({ ok: true });
    await until(() => printed(browser).includes("ran 2\n"), "the output once Redis is back");
  }, 60_000);

  it("a teammate whose access is removed on replica A loses the notebook on replica B within seconds: no more events, no more runs", async () => {
    const a = await startGateway();
    const b = await startGateway();
    const worker = scriptedWorker(b.url, "w1");
    await until(() => worker.connected(), "the worker to connect to B");
    const notebook = await a.db.notebooks.create(a.db.localUserId, "revoked");
    const invite = await a.db.accounts.createInvite({
      id: "inv-1",
      createdById: a.db.localUserId,
      expiresAt: new Date(Date.now() + 60_000),
    });
    const teammate = await a.db.accounts.acceptInvite(invite.id, { name: "Tess", email: "tess@example.com", passwordHash: "x" });
    await a.db.shares.grant(notebook.id, "tess@example.com", "runner");
    const token = newToken();
    await a.db.accounts.createSession({ id: tokenId(token), userId: teammate.id, expiresAt: sessionExpiry() });

    const owner = page(a.url);
    const tess = harness.page(b.url, { cookie: `${SESSION_COOKIE}=${token}` });
    await owner.open(notebook.id);
    expect(await tess.open(notebook.id)).toMatchObject({ ok: true, role: "runner" });
    await until(() => tess.statuses.includes("idle"), "the kernel to start");

    const removed = await fetch(`${a.url}/api/notebooks/${notebook.id}/grants/${teammate.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(removed.status).toBeLessThan(300);
    await until(
      () => tess.events.some((e) => e.event === "access:changed" && (e.payload as { role: unknown }).role === null),
      "the page on B to hear that its access is gone",
      5_000,
    );
    expect(await tess.run(notebook.id, "1", notebook.cells[0]!.id)).toEqual({ ok: false, error: "Open the notebook first." });
    expect(await tess.open(notebook.id)).toEqual({ ok: false, error: "No such notebook." });
    // The owner's next run is no longer shown to her.
    expect(await owner.run(notebook.id, "secret = 42", notebook.cells[0]!.id)).toEqual({ ok: true });
    await until(() => printed(owner).includes("ran secret = 42\n"), "the owner's output");
    await new Promise((r) => setTimeout(r, 200));
    expect(printed(tess)).not.toContain("ran secret = 42\n");
  }, 30_000);
});
