// A terminal's socket side against a real socket.io server playing the gateway.
import { afterEach, describe, expect, it } from "vitest";
import { TERMINAL_INPUT_MAX, type Notebook } from "@cellar/protocol";
import { createNotebookStore } from "../notebook/notebook-store";
import { startGatewayDouble, until } from "../../test-support/gateway-double";
import { KernelConnection } from "../kernel/kernel-socket";

const NB = "nb-1";
const notebook: Notebook = { id: NB, userId: "u", title: "t", createdAt: "", updatedAt: "", lastRunAt: null, cells: [] };
const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

async function setup() {
  const gw = await startGatewayDouble("idle");
  cleanups.push(() => gw.close());
  const store = createNotebookStore(notebook);
  const kernel = new KernelConnection(NB, store, { fetchNotebook: async () => notebook, createSocket: gw.connectSocket });
  kernel.connect();
  cleanups.push(() => kernel.dispose());
  await until(() => store.getState().kernel.status === "idle", "idle");
  const seen: string[] = [];
  let output = "";
  let ended: string | null = null;
  const handlers = {
    output: (b: Uint8Array) => {
      output += new TextDecoder().decode(b);
    },
    ended: (r: string) => {
      ended = r;
    },
  };
  return { gw, kernel, seen, handlers, output: () => output, ended: () => ended };
}

describe("TerminalSession", () => {
  it("opens with the screen's size, draws output, sends keys and resizes, and ends with the gateway's reason", async () => {
    const t = await setup();
    t.gw.socket().on("terminal:open", (p, ack) => {
      t.seen.push(`open ${p.notebookId} ${p.cols}x${p.rows}`);
      ack({ ok: true, terminalId: "term-1" });
    });
    t.gw.socket().on("terminal:input", (p) => t.seen.push(`input ${p.terminalId} ${JSON.stringify(p.data)}`));
    t.gw.socket().on("terminal:resize", (p) => t.seen.push(`resize ${p.terminalId} ${p.cols}x${p.rows}`));
    const session = t.kernel.openTerminal(t.handlers, 80, 24);
    await until(() => t.seen.length === 1, "open");
    session.resize(100, 30); // may race the ack: it is sent once the terminal has its id
    await until(() => t.seen.length === 2, "resize");
    session.input("ls\r");
    await until(() => t.seen.length === 3, "input");
    expect(t.seen).toEqual(["open nb-1 80x24", "resize term-1 100x30", 'input term-1 "ls\\r"']);
    // A paste larger than one input event may carry arrives whole, in order.
    const pasted: string[] = [];
    t.gw.socket().on("terminal:input", (p) => pasted.push(p.data));
    session.input("a".repeat(TERMINAL_INPUT_MAX) + "bc");
    await until(() => pasted.join("").length === TERMINAL_INPUT_MAX + 2, "the paste");
    expect(pasted.map((p) => p.length)).toEqual([TERMINAL_INPUT_MAX, 2]);
    t.seen.length = 3;

    t.gw.socket().emit("terminal:event", { notebookId: NB, event: { type: "output", id: "other", data: btoa("not mine") } });
    t.gw
      .socket()
      .emit("terminal:event", { notebookId: NB, event: { type: "output", id: "term-1", data: btoa("héllo".replace("é", "\xc3\xa9")) } });
    await until(() => t.output() === "héllo", "output");
    t.gw.socket().emit("terminal:event", { notebookId: NB, event: { type: "exit", id: "term-1", reason: "kernel restarted" } });
    await until(() => t.ended() === "kernel restarted", "ended");
    session.input("more\r");
    await new Promise((r) => setTimeout(r, 50));
    expect(t.seen).toHaveLength(3);
  });

  it("ends at once with the gateway's refusal", async () => {
    const t = await setup();
    t.gw.socket().on("terminal:open", (_p, ack) => ack({ ok: false, error: "The kernel is dead; restart it to open a terminal." }));
    t.kernel.openTerminal(t.handlers, 80, 24);
    await until(() => t.ended() !== null, "ended");
    expect(t.ended()).toBe("The kernel is dead; restart it to open a terminal.");
  });
});
