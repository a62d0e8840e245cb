// The kernel connection against a real socket.io server playing the gateway's side.
import { afterEach, describe, expect, it } from "vitest";
import { executeRequest, makeMessage, type KernelStatus, type Notebook } from "@cellar/protocol";
import { createNotebookStore, type NotebookStore } from "../notebook/notebook-store";
import { startGatewayDouble, until, type GatewayDouble } from "../../test-support/gateway-double";
import { KernelConnection } from "./kernel-socket";

const NB = "nb-1";
const notebook: Notebook = {
  id: NB,
  userId: "u",
  title: "t",
  createdAt: "",
  updatedAt: "",
  lastRunAt: null,
  cells: [
    { id: "c1", cell_type: "code", source: "print('hi')", outputs: [], execution_count: null, metadata: {} },
    { id: "c2", cell_type: "code", source: "1/0", outputs: [], execution_count: null, metadata: {} },
    { id: "c3", cell_type: "code", source: "print('after')", outputs: [], execution_count: null, metadata: {} },
  ],
};

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

async function startGateway(initial: KernelStatus): Promise<GatewayDouble> {
  const gw = await startGatewayDouble(initial);
  cleanups.push(() => gw.close());
  return gw;
}

function connect(gw: GatewayDouble): { store: NotebookStore; kernel: KernelConnection } {
  const store = createNotebookStore(notebook);
  const kernel = new KernelConnection(NB, store, { fetchNotebook: async () => notebook, createSocket: gw.connectSocket, flushEveryMs: 5 });
  kernel.connect();
  cleanups.push(() => kernel.dispose());
  return { store, kernel };
}

describe("KernelConnection", () => {
  it("opens the notebook and shows the kernel status and worker count", async () => {
    const gw = await startGateway("idle");
    const { store } = connect(gw);
    await until(() => store.getState().kernel.status === "idle", "idle");
    expect(store.getState().workers).toBe(1);
    gw.socket().emit("kernel:status", { notebookId: NB, status: "dead", reason: "The kernel process exited (code 1)." });
    await until(() => store.getState().kernel.status === "dead", "dead");
    expect(store.getState().kernel.reason).toContain("exited");
  });

  it("shows the status the gateway announces, not a guess from the kernel's own busy/idle messages", async () => {
    const gw = await startGateway("idle");
    const { store, kernel } = connect(gw);
    await until(() => store.getState().kernel.status === "idle", "idle");
    kernel.run("c1", "print('hi')");
    await until(() => gw.sent.length === 1, "the request");
    gw.socket().emit("kernel:status", { notebookId: NB, status: "busy" });
    await until(() => store.getState().kernel.status === "busy", "busy");
    // The kernel's idle for the run reaches the page; the gateway has not said idle yet.
    gw.reply(NB, gw.sent[0], "status", { execution_state: "idle" });
    await until(() => !store.getState().running.c1, "the run to finish");
    expect(store.getState().kernel.status).toBe("busy");
    gw.socket().emit("kernel:status", { notebookId: NB, status: "idle" });
    await until(() => store.getState().kernel.status === "idle", "idle again");
  });

  it("sends an execute_request naming the cell and routes the kernel's answers to that cell", async () => {
    const gw = await startGateway("idle");
    const { store, kernel } = connect(gw);
    await until(() => store.getState().kernel.status === "idle", "idle");
    kernel.run("c1", "print('hi')");
    await until(() => gw.sent.length === 1, "the request");
    const request = gw.sent[0];
    expect(request.header.msg_type).toBe("execute_request");
    expect(request.metadata.cellId).toBe("c1");
    expect(request.content.code).toBe("print('hi')");
    expect(store.getState().running.c1).toBe(request.header.msg_id);

    gw.reply(NB, request, "execute_input", { code: "print('hi')", execution_count: 1 });
    gw.reply(NB, request, "stream", { name: "stdout", text: "hi\n" });
    gw.reply(NB, request, "execute_reply", { status: "ok", execution_count: 1 });
    await until(() => !store.getState().running.c1, "the run to finish");
    expect(store.getState().outputs.c1.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "hi\n" }]);
    expect(store.getState().outputs.c1.executionCount).toBe(1);
  });

  it("holds runs while the kernel starts and sends them once it is idle", async () => {
    const gw = await startGateway("starting");
    const { store, kernel } = connect(gw);
    await until(() => store.getState().kernel.status === "starting", "starting");
    kernel.run("c1", "1");
    await new Promise((r) => setTimeout(r, 50));
    expect(gw.sent).toHaveLength(0);
    expect(store.getState().running.c1).toBeDefined(); // shows [*] meanwhile
    gw.socket().emit("kernel:status", { notebookId: NB, status: "idle" });
    await until(() => gw.sent.length === 1, "the held request");
  });

  it("a dead kernel stops cells showing as running", async () => {
    const gw = await startGateway("idle");
    const { store, kernel } = connect(gw);
    await until(() => store.getState().kernel.status === "idle", "idle");
    kernel.run("c1", "import os; os._exit(1)");
    await until(() => gw.sent.length === 1, "the request");
    gw.socket().emit("kernel:status", { notebookId: NB, status: "dead", reason: "exited" });
    await until(() => store.getState().kernel.status === "dead", "dead");
    expect(store.getState().running).toEqual({});
  });

  it("after a lost connection, reopens the notebook and reads back the outputs it missed", async () => {
    const gw = await startGateway("idle");
    const { store } = connect(gw);
    await until(() => store.getState().kernel.status === "idle", "idle");
    notebook.cells[0].outputs = [{ output_type: "stream", name: "stdout", text: "recorded while away\n" }];
    notebook.cells[0].execution_count = 7;
    gw.socket().conn.close(); // the transport drops, as when the gateway restarts
    await until(() => store.getState().kernel.status === "disconnected", "disconnected");
    expect(store.getState().kernel.reason).toMatch(/reconnecting/);
    await until(() => store.getState().outputs.c1.executionCount === 7, "the recorded outputs");
    expect(store.getState().kernel.status).toBe("idle");
    expect(store.getState().outputs.c1.outputs[0]).toMatchObject({ text: "recorded while away\n" });
    notebook.cells[0].outputs = [];
    notebook.cells[0].execution_count = null;
  });

  it("after a lost connection the gateway cannot replay, takes a running cell as the gateway holds it, not the database's older copy", async () => {
    const gw = await startGateway("busy");
    const { store } = connect(gw);
    await until(() => store.getState().kernel.status === "busy", "busy");
    // The database has line 1 of c1 so far (its writes lag); the gateway has recorded 1 to 3.
    notebook.cells[0].outputs = [{ output_type: "stream", name: "stdout", text: "1\n" }];
    notebook.cells[1].execution_count = 5;
    gw.liveOnOpen = { cellId: "c1", outputs: [{ output_type: "stream", name: "stdout", text: "1\n2\n3\n" }], executionCount: null };
    gw.socket().conn.close();
    await until(() => store.getState().outputs.c2.executionCount === 5, "the read-back of the other cells");
    expect(store.getState().outputs.c1.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "1\n2\n3\n" }]);
    notebook.cells[0].outputs = [];
    notebook.cells[1].execution_count = null;
  });

  it("ignores messages for other notebooks and for requests it did not make", async () => {
    const gw = await startGateway("idle");
    const { store } = connect(gw);
    await until(() => store.getState().kernel.status === "idle", "idle");
    gw.reply(NB, executeRequest(""), "stream", { name: "stdout", text: "not mine\n" });
    gw.socket().emit("kernel:status", { notebookId: "other", status: "dead" });
    await new Promise((r) => setTimeout(r, 50));
    expect(store.getState().outputs.c1.outputs).toEqual([]);
    expect(store.getState().kernel.status).toBe("idle");
  });

  it("shows a run another page started live in its cell, from the cell the gateway names", async () => {
    const gw = await startGateway("idle");
    const { store } = connect(gw);
    await until(() => store.getState().kernel.status === "idle", "idle");
    const theirs = executeRequest("print('from a teammate')");
    const send = (type: string, content: Record<string, unknown>) =>
      gw.socket().emit("kernel:message", {
        notebookId: NB,
        cellId: "c3",
        message: makeMessage(type, content as never, { channel: type === "execute_reply" ? "shell" : "iopub", parent: theirs }),
      });
    send("status", { execution_state: "busy" });
    await until(() => Boolean(store.getState().running.c3), "the cell to show as running");
    send("stream", { name: "stdout", text: "from a teammate\n" });
    send("execute_reply", { status: "ok", execution_count: 7, user_expressions: {} });
    send("status", { execution_state: "idle" });
    await until(() => !store.getState().running.c3, "the run to end");
    expect(store.getState().outputs.c3.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "from a teammate\n" }]);
  });

  it("sends runs one at a time: queued cells are told apart from the running one, and get their timing", async () => {
    const gw = await startGateway("idle");
    const { store, kernel } = connect(gw);
    await until(() => store.getState().kernel.status === "idle", "idle");
    kernel.run("c1", "print('hi')");
    kernel.run("c3", "print('after')");
    await until(() => gw.sent.length === 1, "the first request");
    await new Promise((r) => setTimeout(r, 30));
    expect(gw.sent).toHaveLength(1); // the second waits for the first's reply
    expect(Object.keys(store.getState().running)).toEqual(["c1", "c3"]);
    expect(store.getState().started).toEqual({});

    const first = gw.sent[0];
    gw.reply(NB, first, "execute_input", { code: "", execution_count: 1 });
    await until(() => Boolean(store.getState().started.c1), "c1 to start");
    expect(store.getState().started.c3).toBeUndefined(); // still queued
    gw.reply(NB, first, "execute_reply", { status: "ok", execution_count: 1 });
    await until(() => gw.sent.length === 2, "the queued request");
    expect(gw.sent[1].metadata.cellId).toBe("c3");
    const timing = store.getState().cells[0].metadata.execution as Record<string, string>;
    expect(Date.parse(timing["shell.execute_reply"]) - Date.parse(timing["iopub.execute_input"])).toBeGreaterThanOrEqual(0);
  });

  it("an error stops the runs queued behind it, as Jupyter's stop_on_error does", async () => {
    const gw = await startGateway("idle");
    const { store, kernel } = connect(gw);
    await until(() => store.getState().kernel.status === "idle", "idle");
    kernel.run("c2", "1/0");
    kernel.run("c3", "print('after')");
    await until(() => gw.sent.length === 1, "the first request");
    gw.reply(NB, gw.sent[0], "error", { ename: "ZeroDivisionError", evalue: "division by zero", traceback: [] });
    gw.reply(NB, gw.sent[0], "status", { execution_state: "idle" });
    await until(() => Object.keys(store.getState().running).length === 0, "the queue to be dropped");
    await new Promise((r) => setTimeout(r, 30));
    expect(gw.sent).toHaveLength(1);
    // The next run goes out at once.
    kernel.run("c1", "print('hi')");
    await until(() => gw.sent.length === 2, "a fresh run");
  });

  it("interrupt drops the runs that are still queued", async () => {
    const gw = await startGateway("idle");
    const { store, kernel } = connect(gw);
    await until(() => store.getState().kernel.status === "idle", "idle");
    kernel.run("c1", "while True: pass");
    kernel.run("c3", "print('after')");
    await until(() => gw.sent.length === 1, "the first request");
    await kernel.interrupt();
    expect(store.getState().running.c3).toBeUndefined();
    expect(store.getState().running.c1).toBeDefined(); // until its KeyboardInterrupt reply
  });
});
