import { afterEach, describe, expect, it, vi } from "vitest";
import { KernelFutures } from "@cellar/kernel-client";
import { makeMessage, type JupyterMessage } from "@cellar/protocol";
import { KernelRequests, type KernelRequestDeps } from "./kernel-requests";

afterEach(() => vi.useRealTimers());

type Ack = { ok: true } | { ok: false; error: string };

/** The requests over the kernel client core's registry, with `send` playing the gateway's ack;
 * `receive` hands a kernel message to it and says whether it answered one of ours. */
function requests(overrides: Partial<KernelRequestDeps> & { send?: (m: JupyterMessage) => Promise<Ack> } = {}) {
  const sent: JupyterMessage[] = [];
  const { send = async (m: JupyterMessage): Promise<Ack> => (sent.push(m), { ok: true }), ...deps } = overrides;
  const futures = new KernelFutures(async (m) => {
    const ack = await send(m);
    if (!ack.ok) throw new Error(ack.error);
  });
  const replied = new Set<string>();
  const core = new KernelRequests({
    request: (msgType, content, options) => {
      const future = futures.request(makeMessage(msgType, content, { channel: "shell", session: "s1" }), options);
      void future.replied.then(
        () => replied.add(future.msgId),
        () => {},
      );
      return future;
    },
    availability: () => "ready",
    ...deps,
  });
  const helper = {
    request: core.request.bind(core),
    receive: (m: JupyterMessage) => {
      const future = futures.route(m);
      return !!future && m.header.msg_type.endsWith("_reply") && !replied.has(future.msgId) && (replied.add(future.msgId), true);
    },
    abandonAll: () => futures.failAll("kernel-lost", "the kernel stopped"),
  };
  return { helper, sent };
}

describe("KernelRequests", () => {
  it("sends the request on shell and resolves with the reply whose parent is that request", async () => {
    const { helper, sent } = requests();
    const pending = helper.request<{ matches: string[] }>("complete_request", { code: "math.fl", cursor_pos: 7 });
    await Promise.resolve();
    const [request] = sent;
    expect(request).toMatchObject({
      channel: "shell",
      header: { msg_type: "complete_request", session: "s1" },
      content: { code: "math.fl", cursor_pos: 7 },
    });
    // Another request's reply and this request's status messages are not the answer.
    expect(
      helper.receive(
        makeMessage(
          "complete_reply",
          { status: "ok", matches: ["x"] },
          { parent: makeMessage("complete_request", { code: "", cursor_pos: 0 }) },
        ),
      ),
    ).toBe(false);
    expect(helper.receive(makeMessage("status", { execution_state: "busy" }, { parent: request }))).toBe(false);
    expect(helper.receive(makeMessage("complete_reply", { status: "ok", matches: ["floor"] }, { parent: request }))).toBe(true);
    await expect(pending).resolves.toEqual({ ok: true, content: { status: "ok", matches: ["floor"] } });
    // Settled once: a duplicate reply is no longer ours.
    expect(helper.receive(makeMessage("complete_reply", { status: "ok", matches: [] }, { parent: request }))).toBe(false);
  });

  it("says the kernel is busy or not running without sending anything", async () => {
    const busy = requests({ availability: () => "busy" });
    await expect(busy.helper.request("inspect_request", {})).resolves.toMatchObject({
      ok: false,
      failure: "busy",
      message: expect.stringMatching(/busy/),
    });
    const down = requests({ availability: () => "not-running" });
    await expect(down.helper.request("inspect_request", {})).resolves.toMatchObject({ ok: false, failure: "not-running" });
    expect([...busy.sent, ...down.sent]).toEqual([]);
  });

  it("gives up after the timeout when no reply comes", async () => {
    vi.useFakeTimers();
    const { helper } = requests({ timeoutMs: 500 });
    const pending = helper.request("complete_request", {});
    await vi.advanceTimersByTimeAsync(500);
    await expect(pending).resolves.toMatchObject({ ok: false, failure: "timeout" });
  });

  it("reports the gateway's refusal and a kernel that errs", async () => {
    const refused = requests({ send: async () => ({ ok: false, error: "The kernel is dead; restart it to run code." }) });
    await expect(refused.helper.request("complete_request", {})).resolves.toMatchObject({
      ok: false,
      failure: "refused",
      message: expect.stringMatching(/dead/),
    });
    const { helper, sent } = requests();
    const pending = helper.request("inspect_request", {});
    await Promise.resolve();
    helper.receive(makeMessage("inspect_reply", { status: "error", evalue: "boom" }, { parent: sent[0] }));
    await expect(pending).resolves.toMatchObject({ ok: false, failure: "refused", message: "boom" });
  });

  it("settles every pending request when the kernel goes away", async () => {
    const { helper } = requests();
    const a = helper.request("complete_request", {});
    const b = helper.request("inspect_request", {});
    helper.abandonAll();
    await expect(Promise.all([a, b])).resolves.toEqual([
      expect.objectContaining({ ok: false, failure: "not-running" }),
      expect.objectContaining({ ok: false, failure: "not-running" }),
    ]);
  });
});
