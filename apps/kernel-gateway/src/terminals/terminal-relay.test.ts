import { describe, expect, it } from "vitest";
import type { TerminalEvent, TerminalRequest } from "@cellar/protocol";
import { TerminalRelay, type TerminalOwner } from "./terminal-relay";

/** A relay whose "worker" records what it was sent, for a notebook whose kernel session can change. */
function setup() {
  const sent: TerminalRequest[] = [];
  const kernel = { sessionId: "s1", error: null as string | null };
  const relay = new TerminalRelay((_nb, req) => {
    if (kernel.error) return { ok: false, error: kernel.error };
    sent.push(req);
    return { ok: true, sessionId: kernel.sessionId };
  });
  const owner = (id: string) => {
    const got: TerminalEvent[] = [];
    const o: TerminalOwner = { id, send: (_nb, e) => got.push(e) };
    return { o, got };
  };
  return { relay, sent, kernel, owner };
}

describe("TerminalRelay", () => {
  it("opens a terminal on the notebook's kernel and relays its output to the opener only", async () => {
    const { relay, sent, owner } = setup();
    const a = owner("a");
    const opened = await relay.openTerminal(a.o, "nb", 80, 24);
    if (!opened.ok) throw new Error(opened.error);
    expect(sent).toEqual([{ type: "open", id: opened.terminalId, cols: 80, rows: 24 }]);
    relay.onWorkerEvent("s1", { type: "output", id: opened.terminalId, data: "aGk=" });
    relay.onWorkerEvent("other-session", { type: "output", id: opened.terminalId, data: "eA==" });
    expect(a.got).toEqual([{ type: "output", id: opened.terminalId, data: "aGk=" }]);
  });

  it("ignores input for a terminal from another browser connection", async () => {
    const { relay, sent, owner } = setup();
    const a = owner("a");
    const b = owner("b");
    const opened = await relay.openTerminal(a.o, "nb", 80, 24);
    if (!opened.ok) throw new Error(opened.error);
    relay.forward(b.o, "nb", { type: "input", id: opened.terminalId, data: "rm -rf ~\n" });
    relay.forward(a.o, "nb", { type: "input", id: opened.terminalId, data: "ls\n" });
    expect(sent.slice(1)).toEqual([{ type: "input", id: opened.terminalId, data: "ls\n" }]);
  });

  it("ends a kernel's terminals when it restarts, and says so", async () => {
    const { relay, owner, kernel } = setup();
    const a = owner("a");
    const opened = await relay.openTerminal(a.o, "nb", 80, 24);
    if (!opened.ok) throw new Error(opened.error);
    relay.onKernelStatus("nb", "busy");
    expect(a.got).toEqual([]);
    relay.onKernelStatus("nb", "restarting");
    expect(a.got).toEqual([{ type: "exit", id: opened.terminalId, reason: "kernel restarted" }]);
    // Late output of the old shell is not shown.
    relay.onWorkerEvent(kernel.sessionId, { type: "output", id: opened.terminalId, data: "aGk=" });
    expect(a.got).toHaveLength(1);
  });

  it("reports a failed open with the kernel's reason", async () => {
    const { relay, owner, kernel } = setup();
    kernel.error = "The kernel is dead; restart it to open a terminal.";
    expect(await relay.openTerminal(owner("a").o, "nb", 80, 24)).toEqual({ ok: false, error: kernel.error });
  });

  it("hangs up the terminals of a browser connection that went away", async () => {
    const { relay, sent, owner } = setup();
    const a = owner("a");
    const opened = await relay.openTerminal(a.o, "nb", 80, 24);
    if (!opened.ok) throw new Error(opened.error);
    relay.onOwnerGone(a.o);
    expect(sent.at(-1)).toEqual({ type: "close", id: opened.terminalId });
  });
});
