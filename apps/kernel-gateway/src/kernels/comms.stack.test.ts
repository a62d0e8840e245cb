// Jupyter comms (what widgets speak) through the real stack: this process's gateway, a real
// worker process, a gVisor sandbox and ipykernel's comm manager behind the kernel bridge
// (testing/real-stack.ts). A page opens a comm to a target the kernel registered and gets its
// echo; the kernel opens a comm to a target the page registered; a viewer's page hears the
// kernel's comm messages but may not send any; none of it lands in a cell's outputs.
import { createGatewaySocket, decodeBuffers, GatewayKernel, type CommMsg, type KernelComm } from "@cellar/kernel-client";
import type { JupyterMessage } from "@cellar/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../testing/gateway-harness";
import { startRealStack, type RealStack } from "../testing/real-stack";

let stack: RealStack;
const kernels: GatewayKernel[] = [];

beforeAll(async () => {
  stack = await startRealStack();
}, 120_000);
afterAll(async () => {
  for (const k of kernels) k.dispose();
  await stack?.close();
}, 60_000);

/** A page of the notebook: the owner's (the token), or a share link's holder. */
function page(notebookId: string, link?: string): GatewayKernel {
  const socket = link
    ? createGatewaySocket({ url: stack.url, shareLink: { notebookId, link }, reconnection: false })
    : createGatewaySocket({ url: stack.url, token: stack.token, reconnection: false });
  const k = new GatewayKernel(socket, notebookId, { link });
  kernels.push(k);
  return k;
}

/** Runs `code` in the cell `cellId`; resolves with what it printed, failing on an error reply. */
async function run(k: GatewayKernel, code: string, cellId?: string): Promise<string> {
  let out = "";
  const reply = await k.execute(code, {
    cellId,
    timeoutMs: 60_000,
    onIOPub: (m) => {
      if (m.header.msg_type === "stream") out += String(m.content.text);
    },
  }).done;
  if (reply.content.status !== "ok") throw new Error(`${code} failed: ${reply.content.ename}: ${reply.content.evalue}`);
  return out;
}

const ECHO_TARGET = `
closed = []
def _echo_target(comm, open_msg):
    comm.send({"opened": open_msg["content"]["data"]})
    @comm.on_msg
    def _echo(msg):
        got = [bytes(b) for b in msg["buffers"]]
        comm.send({"echo": msg["content"]["data"], "buffers": [b.hex() for b in got]}, buffers=[b[::-1] for b in got])
    @comm.on_close
    def _closed(msg):
        closed.append(msg["content"]["data"])
get_ipython().kernel.comm_manager.register_target("echo", _echo_target)
`;

describe("comms on the real stack", () => {
  it("carries comm_open, comm_msg and comm_close both ways, to every page, runners only, never into outputs", async () => {
    const nb = await stack.db.notebooks.create(stack.db.localUserId, "widgets");
    await stack.db.notebooks.update(nb.id, {
      cells: [
        { id: "setup", cell_type: "code", source: ECHO_TARGET },
        { id: "open", cell_type: "code", source: "" },
      ],
    });
    const { secret } = await stack.db.shares.createLink({
      notebookId: nb.id,
      role: "viewer",
      createdById: stack.db.localUserId,
      expiresAt: null,
    });
    const owner = page(nb.id);
    const viewer = page(nb.id, secret);
    await owner.opened();
    await until(() => owner.status === "idle", "the kernel to start", 120_000);
    await viewer.opened();
    // Every message the owner's page hears, by the request it answers.
    const byParent = new Map<string, string[]>();
    owner.on("message", (m) => {
      const parent = m.parent_header.msg_id;
      if (parent) byParent.set(parent, [...(byParent.get(parent) ?? []), m.header.msg_type]);
    });
    // What a collaborator's page hears of the kernel's comms.
    const watched: JupyterMessage[] = [];
    viewer.on("message", (m) => {
      if (m.header.msg_type.startsWith("comm_")) watched.push(m);
    });

    // ipykernel 6.17 (Debian bookworm) has its own comm manager; the `comm` package came later.
    expect(await run(owner, "import ipykernel; print(ipykernel.__version__)")).toMatch(/^6\./);
    await run(owner, ECHO_TARGET, "setup");

    // The page opens a comm to the kernel's target and hears the handler's greeting.
    const comm = owner.createComm("echo");
    const heard: CommMsg[] = [];
    comm.onMsg = (m) => void heard.push(m);
    await comm.open({ hello: 1 }).done;
    await until(() => heard.length === 1, "the target's greeting");
    expect(heard[0]!.content.data).toEqual({ opened: { hello: 1 } });

    // A message with binary parts: the echo is parented to it (the send's future sees it) and
    // carries the bytes back reversed.
    const answers: JupyterMessage[] = [];
    const sent = comm.send({ n: 1 }, {}, [new Uint8Array([1, 2, 3])]);
    sent.onIOPub = (m) => void answers.push(m);
    expect(await sent.done).toBeNull();
    expect(answers.map((m) => m.header.msg_type)).toEqual(["status", "comm_msg", "status"]);
    expect(answers[1]!.parent_header.msg_id).toBe(sent.msgId);
    await until(() => heard.length === 2, "the echo");
    expect(heard[1]!.content.data).toEqual({ echo: { n: 1 }, buffers: ["010203"] });
    expect(decodeBuffers(heard[1]!).map((b) => [...new Uint8Array(b.buffer)])).toEqual([[3, 2, 1]]);

    // The viewer's page heard the kernel's side of it, live.
    await until(() => watched.length >= 2, "the viewer to hear the kernel's comm messages");
    expect(watched.map((m) => [m.header.msg_type, m.content.comm_id])).toEqual([
      ["comm_msg", comm.commId],
      ["comm_msg", comm.commId],
    ]);
    // …but may not send on it, nor open one: the gateway refuses, and the kernel never hears it.
    const refusal = { kind: "refused", message: "Needs the runner role on this notebook." };
    await expect(viewer.createComm("echo", comm.commId).send({ n: 2 }).done).rejects.toMatchObject(refusal);
    await expect(viewer.createComm("echo").open({}).done).rejects.toMatchObject(refusal);
    await expect(viewer.requestCommInfo()).rejects.toMatchObject(refusal);

    // The kernel knows the comm by the page's id.
    const info = await owner.requestCommInfo({ target_name: "echo" });
    expect(info.content).toMatchObject({ status: "ok", comms: { [comm.commId]: { target_name: "echo" } } });

    // The other way: the kernel opens a comm to a target the pages registered (both hear it),
    // sends on it, takes the page's answer and closes it.
    const fromKernel: Record<string, { comm: KernelComm; log: unknown[] }> = {};
    for (const [who, k] of [
      ["owner", owner],
      ["viewer", viewer],
    ] as const)
      k.registerCommTarget("cellar.client", (c, msg) => {
        const log: unknown[] = [msg.content.data];
        fromKernel[who] = { comm: c, log };
        c.onMsg = (m) => void log.push({ data: m.content.data, bytes: decodeBuffers(m).map((b) => [...new Uint8Array(b.buffer)]) });
        c.onClose = (m) => void log.push({ closed: m.content.data });
      });
    await run(
      owner,
      [
        "try:",
        "    from comm import create_comm",
        "except ImportError:",
        "    from ipykernel.comm import Comm as create_comm",
        "answers = []",
        'kc = create_comm(target_name="cellar.client", data={"from": "kernel"})',
        'kc.on_msg(lambda m: answers.append(m["content"]["data"]))',
        'kc.send({"value": 42}, buffers=[b"\\x00\\xff"])',
      ].join("\n"),
      "open",
    );
    await until(() => fromKernel.owner?.log.length === 2 && fromKernel.viewer?.log.length === 2, "both pages to get the kernel's comm");
    for (const who of ["owner", "viewer"])
      expect(fromKernel[who]!.log, who).toEqual([{ from: "kernel" }, { data: { value: 42 }, bytes: [[0, 255]] }]);
    const kc = fromKernel.owner!.comm;
    expect(kc.commId).toBe(fromKernel.viewer!.comm.commId);
    await kc.send({ ack: true }).done;
    await run(owner, 'kc.close({"bye": 1})');
    await until(() => fromKernel.owner!.log.length === 3 && fromKernel.viewer!.log.length === 3, "the kernel's close");
    expect(fromKernel.owner!.log[2]).toEqual({ closed: { bye: 1 } });
    expect(kc.isDisposed).toBe(true);

    // The page closes its comm; the kernel's handlers saw exactly the runner's messages.
    const closing = comm.close({ done: true });
    await closing.done;
    // No comm message got a reply (the bridge makes none up for them): busy, what the handler
    // sent, idle.
    expect(byParent.get(sent.msgId)).toEqual(["status", "comm_msg", "status"]);
    expect(byParent.get(closing.msgId)).toEqual(["status", "status"]);
    expect(await run(owner, "print(answers, closed)")).toBe("[{'ack': True}] [{'done': True}]\n");

    // None of it is a cell's output: the cell that opened the kernel's comm printed nothing.
    await until(
      async () => (await stack.db.notebooks.get(nb.id))?.cells.find((c) => c.id === "open")?.execution_count != null,
      "the run's record",
    );
    const cells = (await stack.db.notebooks.get(nb.id))!.cells;
    expect(cells.find((c) => c.id === "open")?.outputs).toEqual([]);
    expect(cells.find((c) => c.id === "setup")?.outputs).toEqual([]);

    // Comm messages have no reply: none is left waiting for one, so the idle kernel suspends.
    expect(await stack.gateway.kernels.suspend(nb.id)).toEqual({ ok: true });
  }, 240_000);
});
