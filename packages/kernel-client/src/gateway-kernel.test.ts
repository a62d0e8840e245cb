// GatewayKernel against a socket.io server speaking the gateway's browser events: a stand-in
// kernel answers each execute_request the way the worker relays the bridge's messages.
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { executeRequest, makeMessage, type BrowserToGateway, type GatewayToBrowser, type JupyterMessage } from "@cellar/protocol";
import { GatewayKernel } from "./gateway-kernel";
import { createGatewaySocket } from "./gateway-socket";

const NB = "nb1";
let http: HttpServer;
let io: Server<BrowserToGateway, GatewayToBrowser>;
let url: string;
let received: JupyterMessage[];
let opens: Array<{ resume?: { stream: string; seq: number } }>;
/** How the stand-in kernel answers a request; by default busy, the reply, then idle. */
let answer: (req: JupyterMessage, emit: (m: JupyterMessage) => void) => void;
const kernels: GatewayKernel[] = [];

const to = (req: JupyterMessage, type: string, content: Record<string, unknown>, channel: JupyterMessage["channel"] = "iopub") =>
  makeMessage(type, content, { parent: req, channel });

beforeEach(async () => {
  received = [];
  opens = [];
  answer = (req, emit) => {
    emit(to(req, "status", { execution_state: "busy" }));
    emit(to(req, "stream", { name: "stdout", text: "hi\n" }));
    emit(to(req, "execute_reply", { status: "ok", execution_count: 1 }, "shell"));
    emit(to(req, "status", { execution_state: "idle" }));
  };
  http = createServer();
  io = new Server(http);
  io.on("connection", (socket) => {
    socket.on("notebook:open", (p, ack) => {
      if (p.notebookId !== NB) return ack({ ok: false, error: "No such notebook." });
      opens.push({ resume: p.resume });
      void socket.join(NB);
      ack({ ok: true, status: "idle", replayed: false, role: "owner" });
    });
    socket.on("kernel:send", (p, ack) => {
      received.push(p.message);
      ack({ ok: true });
      answer(p.message, (message) => io.to(NB).emit("kernel:message", { notebookId: NB, message }));
    });
    socket.on("kernel:interrupt", (_p, ack) => ack({ ok: true }));
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const k of kernels.splice(0)) k.dispose();
  await new Promise((r) => io.close(r));
});

function kernel(notebookId = NB, reconnection = false) {
  const k = new GatewayKernel(createGatewaySocket({ url, token: "t", reconnection }), notebookId);
  kernels.push(k);
  return k;
}

describe("GatewayKernel", () => {
  it("drops a message it has had (by its worker number), and on a reconnect says where it stopped", async () => {
    const k = kernel(NB, true);
    await k.opened();
    const seen: string[] = [];
    k.on("message", (m) => seen.push(String(m.content.text)));
    const line = (text: string) => makeMessage("stream", { name: "stdout", text }, { channel: "iopub" });
    io.to(NB).emit("kernel:message", { notebookId: NB, message: line("a"), stream: "s1:e1", seq: 1 });
    io.to(NB).emit("kernel:message", { notebookId: NB, message: line("b"), stream: "s1:e1", seq: 2 });
    io.to(NB).emit("kernel:message", { notebookId: NB, message: line("b"), stream: "s1:e1", seq: 2 });
    io.to(NB).emit("kernel:message", { notebookId: NB, message: line("new kernel"), stream: "s2:e1", seq: 1 });
    await until(() => seen.length === 3);
    expect(seen).toEqual(["a", "b", "new kernel"]);
    for (const s of await io.fetchSockets()) s.disconnect();
    await until(() => opens.length === 2);
    expect(opens).toEqual([{ resume: undefined }, { resume: { stream: "s2:e1", seq: 1 } }]);
  });

  it("opens the notebook, runs code with the cell id and collects its outputs until done", async () => {
    const k = kernel();
    expect(await k.opened()).toBe("idle");
    const texts: string[] = [];
    const run = k.execute("print('hi')", {
      cellId: "c1",
      allowStdin: true,
      onIOPub: (m) => m.header.msg_type === "stream" && texts.push(String(m.content.text)),
    });
    const reply = await run.done;
    expect(reply.content.status).toBe("ok");
    expect(texts).toEqual(["hi\n"]);
    expect(received[0]).toMatchObject({
      metadata: { cellId: "c1" },
      content: { code: "print('hi')", allow_stdin: true },
      header: { session: k.session },
    });
  });

  it("hears every message of the notebook, its own and other clients'", async () => {
    const k = kernel();
    await k.opened();
    const seen: Array<[string, boolean]> = [];
    k.on("message", (m, future) => seen.push([m.header.msg_type, future !== undefined]));
    const stranger = executeRequest("");
    io.to(NB).emit("kernel:message", { notebookId: NB, message: to(stranger, "status", { execution_state: "busy" }) });
    await k.execute("1").done;
    expect(seen[0]).toEqual(["status", false]);
    expect(seen.slice(1).every(([, mine]) => mine)).toBe(true);
  });

  it("fails the open requests when the gateway says the kernel died", async () => {
    answer = () => {};
    const k = kernel();
    await k.opened();
    const run = k.execute("import os; os._exit(1)");
    await new Promise((r) => setTimeout(r, 50));
    io.to(NB).emit("kernel:status", { notebookId: NB, status: "dead", reason: "The kernel exited" });
    await expect(run.done).rejects.toMatchObject({ kind: "kernel-lost", message: "The kernel exited" });
    expect(k.status).toBe("dead");
  });

  it("sends an input_reply parented to the prompt", async () => {
    answer = (req, emit) => emit(to(req, "input_request", { prompt: "name? ", password: false }, "stdin"));
    const k = kernel();
    await k.opened();
    const prompt = await new Promise<JupyterMessage>((resolve) => k.execute("input('name? ')", { allowStdin: true, onStdin: resolve }));
    expect(await k.answerInput(prompt.header, "Ada")).toEqual({ ok: true });
    expect(received[1]).toMatchObject({
      header: { msg_type: "input_reply" },
      parent_header: { msg_id: prompt.header.msg_id },
      content: { value: "Ada" },
      channel: "stdin",
    });
  });

  it("refuses the open of a notebook the gateway does not have, and says it is dead", async () => {
    const k = kernel("missing");
    await expect(k.opened()).rejects.toMatchObject({ kind: "refused", message: "No such notebook." });
    expect(k.status).toBe("dead");
  });

  it("opens the notebook again after a reconnect, saying so, and fails what was open when the link broke", async () => {
    answer = () => {};
    const k = kernel(NB, true);
    const opens: boolean[] = [];
    k.on("open", (p) => opens.push(p.reconnected));
    await k.opened();
    const run = k.execute("1");
    await new Promise((r) => setTimeout(r, 50));
    io.disconnectSockets(); // the server hangs up: the client reconnects after a second
    await expect(run.done).rejects.toMatchObject({ kind: "kernel-lost" });
    expect(k.status).toBe("disconnected");
    await new Promise<void>((resolve) => k.on("open", () => resolve()));
    expect(opens).toEqual([false, true]);
    expect(k.status).toBe("idle");
  });

  it("opens comms and hears the kernel's, over the gateway's events; a restart disposes them, a lost link does not", async () => {
    // The stand-in kernel echoes a comm_msg, answers comm_info, and opens a comm of its own.
    answer = (req, emit) => {
      emit(to(req, "status", { execution_state: "busy" }));
      const type = req.header.msg_type;
      if (type === "comm_msg") emit(to(req, "comm_msg", { comm_id: req.content.comm_id, data: { echo: req.content.data } }));
      if (type === "comm_info_request") emit(to(req, "comm_info_reply", { status: "ok", comms: { k1: { target_name: "t" } } }, "shell"));
      if (type === "comm_open") emit(to(req, "comm_open", { comm_id: "from-kernel", target_name: "client.target", data: { hi: 1 } }));
      emit(to(req, "status", { execution_state: "idle" }));
    };
    const k = kernel(NB, true);
    await k.opened();
    const opened: Array<[string, unknown]> = [];
    k.registerCommTarget("client.target", (comm, msg) => void opened.push([comm.commId, msg.content.data]));
    const comm = k.createComm("echo");
    await comm.open({ a: 1 }).done;
    const echoes: unknown[] = [];
    comm.onMsg = (m) => void echoes.push(m.content.data);
    const sent = comm.send({ n: 1 }, {}, [new Uint8Array([1, 2])]);
    expect(await sent.done).toBeNull();
    await until(() => echoes.length === 1 && opened.length === 1);
    expect(echoes).toEqual([{ echo: { n: 1 } }]);
    expect(opened).toEqual([["from-kernel", { hi: 1 }]]);
    expect(received.find((m) => m.header.msg_type === "comm_msg")).toMatchObject({ buffers: ["AQI="], header: { session: k.session } });
    expect((await k.requestCommInfo({ target_name: "t" })).content.comms).toEqual({ k1: { target_name: "t" } });

    // A lost connection keeps the comms (the kernel runs on); a restart ends them.
    for (const s of await io.fetchSockets()) s.disconnect();
    await new Promise<void>((resolve) => k.on("open", () => resolve()));
    expect(k.hasComm(comm.commId) && k.hasComm("from-kernel")).toBe(true);
    io.to(NB).emit("kernel:status", { notebookId: NB, status: "restarting" });
    await until(() => k.status === "restarting");
    expect(comm.isDisposed).toBe(true);
    expect(k.hasComm("from-kernel")).toBe(false);
  });

  it("fails a comm message the gateway refuses, with its reason", async () => {
    io.removeAllListeners("connection");
    io.on("connection", (socket) => {
      socket.on("notebook:open", (_p, ack) => {
        void socket.join(NB);
        ack({ ok: true, status: "idle", replayed: false, role: "viewer" });
      });
      socket.on("kernel:send", (_p, ack) => ack({ ok: false, error: "Needs the runner role on this notebook." }));
    });
    const k = kernel();
    await k.opened();
    const comm = k.createComm("echo", "known-id");
    await expect(comm.send({ n: 1 }).done).rejects.toMatchObject({ kind: "refused", message: "Needs the runner role on this notebook." });
  });

  it("answers commands with the gateway's ack, and refuses them when not connected", async () => {
    const k = kernel();
    await k.opened();
    expect(await k.interrupt()).toEqual({ ok: true });
    k.socket.disconnect();
    expect(await k.interrupt()).toEqual({ ok: false, error: "not connected to the gateway" });
  });
});

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}
