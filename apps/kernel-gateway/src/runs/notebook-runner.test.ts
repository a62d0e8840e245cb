// The notebook runner on a real gateway and database with the scripted worker (which answers each
// cell by printing its code back): what does not need a real kernel. The kernel's own behaviour
// (errors, interrupts, floods, a dying worker) is in notebook-runner.stack.test.ts.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { GatewayHarness, until } from "../testing/gateway-harness";
import { NotebookRunner } from "./notebook-runner";

const harness = new GatewayHarness();
afterEach(() => harness.reset());
afterAll(() => harness.close());

async function setup() {
  const { gateway, url, db } = await harness.startGateway();
  const nb = await db.notebooks.create(db.localUserId, "job");
  await db.notebooks.update(nb.id, {
    cells: [
      { id: "p", cell_type: "code", source: "n = 1", metadata: { tags: ["parameters"] } },
      { id: "blank", cell_type: "code", source: "  \n" },
      { id: "use", cell_type: "code", source: "print(n)" },
    ],
  });
  const runner = new NotebookRunner({ kernels: gateway.kernels, notebooks: db.notebooks, kernelStartTimeoutMs: 1_000 });
  return { gateway, url, db, notebookId: nb.id, runner };
}

describe("notebook runner", () => {
  it("sends each non-blank code cell of the copy, the injected parameters included, to a kernel of the copy's own", async () => {
    const { url, db, notebookId, gateway } = await setup();
    const worker = harness.scriptedWorker(url, "w1");
    await until(() => worker.connected(), "the worker to connect");
    const outcome = await gateway.runs.run({ notebookId, userId: db.localUserId, timeoutMs: 10_000, parameters: { n: 7 } });
    expect(outcome).toMatchObject({ status: "succeeded", workerId: "w1" });
    expect(worker.ran).toEqual(["n = 1", "# Parameters\nn = 7\n", "print(n)"]);
    const sent = worker.received.filter((m) => m.header.msg_type === "execute_request");
    const copy = (await db.notebooks.get(outcome.executedNotebookId!))!;
    expect(sent.map((m) => m.metadata.cellId)).toEqual(["p", copy.cells[1]!.id, "use"]);
    // Recorded into the copy, as the owner's run.
    await until(async () => (await db.notebooks.get(copy.id))!.cells[3]!.outputs.length > 0, "the copy's outputs");
    const ran = (await db.notebooks.get(copy.id))!.cells[3]!;
    expect(ran.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "ran print(n)\n" }]);
    expect(ran.lastRunBy?.id).toBe(db.localUserId);
    expect(worker.started).toHaveLength(1);
    expect(gateway.kernels.status(copy.id)).toBeUndefined();
    expect(gateway.kernels.status(notebookId)).toBeUndefined();
  }, 30_000);

  it("fails, saying why, when no kernel can start (no worker is connected)", async () => {
    const { db, notebookId, runner, gateway } = await setup();
    const outcome = await runner.run({ notebookId, userId: db.localUserId, timeoutMs: 10_000 });
    expect(outcome).toMatchObject({
      status: "failed",
      errorName: "KernelUnavailable",
      errorValue: "No kernel started within 1 s: No worker is connected; the kernel starts when one connects.",
      failingCellId: null,
      workerId: null,
    });
    expect(gateway.kernels.status(outcome.executedNotebookId!)).toBeUndefined();
    expect(await db.kernels.get(outcome.executedNotebookId!)).toBeNull();
  }, 30_000);

  it("a missing notebook, or a run cancelled before it starts, makes no copy", async () => {
    const { db, runner, notebookId } = await setup();
    expect(await runner.run({ notebookId: "no-such-notebook", userId: db.localUserId, timeoutMs: 1_000 })).toMatchObject({
      status: "failed",
      executedNotebookId: null,
      errorName: "NotebookNotFound",
    });
    const cancelled = new AbortController();
    cancelled.abort();
    expect(await runner.run({ notebookId, userId: db.localUserId, timeoutMs: 1_000, signal: cancelled.signal })).toMatchObject({
      status: "cancelled",
      executedNotebookId: null,
    });
  });
});
