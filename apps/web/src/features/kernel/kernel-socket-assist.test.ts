// Completion, inspection and input() through the page's kernel connection, against a socket.io
// server playing the gateway's side.
import { afterEach, describe, expect, it } from "vitest";
import { makeMessage, type Notebook } from "@cellar/protocol";
import { createNotebookStore } from "../notebook/notebook-store";
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
  cells: [{ id: "c1", cell_type: "code", source: "name = input('Your name: ')", outputs: [], execution_count: null, metadata: {} }],
};

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

async function connect() {
  const gw: GatewayDouble = await startGatewayDouble("idle");
  cleanups.push(() => gw.close());
  const store = createNotebookStore(notebook);
  const kernel = new KernelConnection(NB, store, { fetchNotebook: async () => notebook, createSocket: gw.connectSocket, flushEveryMs: 5 });
  kernel.connect();
  cleanups.push(() => kernel.dispose());
  await until(() => store.getState().kernel.status === "idle", "idle");
  return { gw, store, kernel };
}

describe("KernelConnection assist", () => {
  it("completes through complete_request with the cursor in code points and takes the matching reply", async () => {
    const { gw, kernel } = await connect();
    const code = "s = 'é😀'\nmath.fl";
    const answer = kernel.assist.complete(code, code.length);
    await until(() => gw.sent.length === 1, "the request");
    const request = gw.sent[0];
    expect(request.header.msg_type).toBe("complete_request");
    expect(request.content).toEqual({ code, cursor_pos: 16 });
    gw.reply(NB, request, "complete_reply", { status: "ok", matches: ["floor"], cursor_start: 14, cursor_end: 16, metadata: {} });
    await expect(answer).resolves.toEqual({ from: 15, to: 17, items: [{ label: "floor", type: undefined }] });
  });

  it("answers at once that the kernel is busy while a cell runs, without asking it", async () => {
    const { gw, kernel } = await connect();
    kernel.run("c1", "import time; time.sleep(10)");
    await until(() => gw.sent.length === 1, "the run");
    await expect(kernel.assist.inspect("len(", 4)).resolves.toEqual({ message: "The kernel is busy running a cell." });
    expect(gw.sent).toHaveLength(1);
  });

  it("shows an input() prompt for the running cell and sends the answer on stdin, parented to the prompt", async () => {
    const { gw, store, kernel } = await connect();
    kernel.run("c1", notebook.cells[0].source);
    await until(() => gw.sent.length === 1, "the run");
    const run = gw.sent[0];
    expect(run.content.allow_stdin).toBe(true);
    gw.reply(NB, run, "stream", { name: "stdout", text: "before\n" });
    const ask = makeMessage("input_request", { prompt: "Your name: ", password: false }, { channel: "stdin", parent: run });
    gw.socket().emit("kernel:message", { notebookId: NB, message: ask });
    await until(() => Boolean(store.getState().inputPrompts.c1), "the prompt");
    expect(store.getState().inputPrompts.c1).toMatchObject({ prompt: "Your name: ", password: false });
    // What the cell printed before asking is already on screen above the prompt.
    expect(store.getState().outputs.c1.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "before\n" }]);

    kernel.answerInput("c1", "Ada");
    expect(store.getState().inputPrompts.c1).toBeUndefined();
    await until(() => gw.sent.length === 2, "the answer");
    expect(gw.sent[1]).toMatchObject({ channel: "stdin", header: { msg_type: "input_reply" }, content: { status: "ok", value: "Ada" } });
    expect(gw.sent[1].parent_header.msg_id).toBe(ask.header.msg_id);
  });

  it("drops a prompt whose run ended (an interrupt while waiting)", async () => {
    const { gw, store, kernel } = await connect();
    kernel.run("c1", notebook.cells[0].source);
    await until(() => gw.sent.length === 1, "the run");
    const run = gw.sent[0];
    gw.socket().emit("kernel:message", {
      notebookId: NB,
      message: makeMessage("input_request", { prompt: "? ", password: true }, { channel: "stdin", parent: run }),
    });
    await until(() => Boolean(store.getState().inputPrompts.c1), "the prompt");
    gw.reply(NB, run, "error", { ename: "KeyboardInterrupt", evalue: "Interrupted by user", traceback: [] });
    gw.reply(NB, run, "execute_reply", { status: "error", execution_count: 1, ename: "KeyboardInterrupt" });
    await until(() => !store.getState().inputPrompts.c1, "the prompt to go");
    expect(store.getState().running.c1).toBeUndefined();
  });
});
