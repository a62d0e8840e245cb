// The notebook runner through the real stack: this process's gateway, a real worker process,
// gVisor sandboxes and IPython (testing/real-stack.ts). Each run starts a kernel of its own, like
// a scheduled run does, and the interactive kernel of the source notebook stays as it was.
import { DEFAULT_OUTPUT_LIMITS, TRUNCATION_NOTE_KEY, type Cell } from "@cellar/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayHarness, until } from "../testing/gateway-harness";
import { startRealStack, type RealStack } from "../testing/real-stack";
import type { RunProgress } from "./notebook-runner";

let stack: RealStack;
const pages = new GatewayHarness();

beforeAll(async () => {
  stack = await startRealStack();
}, 120_000);
afterAll(async () => {
  await pages.close();
  await stack?.close();
}, 60_000);

const code = (id: string, source: string, tags?: string[]) => ({
  id,
  cell_type: "code" as const,
  source,
  metadata: tags ? { tags } : {},
});

/** A notebook of the owner's holding `cells`, as saved. */
async function notebook(cells: Array<Pick<Cell, "id" | "cell_type" | "source" | "metadata">>): Promise<string> {
  const nb = await stack.db.notebooks.create(stack.db.localUserId, "job");
  await stack.db.notebooks.update(nb.id, { cells });
  return nb.id;
}

const run = (notebookId: string, more: Partial<Parameters<RealStack["gateway"]["runs"]["run"]>[0]> = {}) =>
  stack.gateway.runs.run({ notebookId, userId: stack.db.localUserId, timeoutMs: 120_000, ...more });

const printed = async (notebookId: string, cellId: string) => {
  const cell = (await stack.db.notebooks.get(notebookId))!.cells.find((c) => c.id === cellId);
  return (cell?.outputs ?? []).map((o) => (o.output_type === "stream" ? o.text : "")).join("");
};

/** The run's kernel is gone: not known to the gateway, not recorded, not on the worker. */
async function expectKernelStopped(notebookId: string) {
  expect(stack.gateway.kernels.status(notebookId)).toBeUndefined();
  expect(await stack.db.kernels.get(notebookId)).toBeNull();
}

describe("notebook runner on the real stack", () => {
  it("runs the saved notebook with its parameters on a fresh kernel, leaving a read-only copy and the interactive kernel untouched", async () => {
    const id = await notebook([
      code("setup", "import math"),
      code("params", 'n = 1\nlabel = "default"', ["parameters"]),
      code("show", 'print(f"n={n} label={label} ratio={ratio!r}")'),
      { id: "notes", cell_type: "markdown", source: "# Done", metadata: {} },
    ]);
    // The interactive kernel, with a variable set in it.
    const page = pages.page(stack.url, { authorization: `Bearer ${stack.token}` });
    expect(await page.open(id)).toMatchObject({ ok: true });
    await until(() => page.statuses.includes("idle"), "the interactive kernel to start", 120_000);
    expect(await page.run(id, "secret = 42", "setup")).toEqual({ ok: true });
    const interactiveWorker = stack.gateway.kernels.workerIdOf(id);

    const progress: RunProgress[] = [];
    const outcome = await run(id, {
      parameters: { n: 5, label: 'it\'s "quoted"', ratio: 0.25 },
      onProgress: (p) => progress.push(p),
    });
    expect(outcome).toMatchObject({ status: "succeeded", workerId: stack.workerId, failingCellId: null, traceback: null });
    const copy = (await stack.db.notebooks.get(outcome.executedNotebookId!))!;
    expect(copy).toMatchObject({ kind: "run", executedFromId: id });
    expect(copy.cells.map((c) => c.id)).toEqual(["setup", "params", expect.any(String), "show", "notes"]);
    expect(copy.cells[2]!.source).toBe('# Parameters\nn = 5\nlabel = "it\'s \\"quoted\\""\nratio = 0.25\n');
    await until(async () => (await printed(copy.id, "show")) !== "", "the run's output to be recorded");
    expect(await printed(copy.id, "show")).toBe(`n=5 label=it's "quoted" ratio=0.25\n`);
    expect(progress.map((p) => [p.cellId, p.number, p.count])).toEqual([
      ["setup", 1, 4],
      ["params", 2, 4],
      [copy.cells[2]!.id, 3, 4],
      ["show", 4, 4],
    ]);
    await expectKernelStopped(copy.id);

    // The source is as it was saved, its interactive kernel still has its variable.
    expect((await stack.db.notebooks.get(id))!.cells).toHaveLength(4);
    expect(stack.gateway.kernels.workerIdOf(id)).toBe(interactiveWorker);
    expect(await page.run(id, "print(secret)", "show")).toEqual({ ok: true });
    await until(() => page.printed().includes("42\n"), "the interactive kernel to print its variable");

    // The copy is its owner's to read, not to change, and not in their list.
    const auth = { authorization: `Bearer ${stack.token}` };
    const put = await fetch(`${stack.url}/api/notebooks/${copy.id}`, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/json", origin: stack.url },
      body: JSON.stringify({ title: "changed" }),
    });
    expect(put.status).toBe(403);
    const list = (await (await fetch(`${stack.url}/api/notebooks`, { headers: auth })).json()) as Array<{ id: string }>;
    expect(list.map((n) => n.id)).toContain(id);
    expect(list.map((n) => n.id)).not.toContain(copy.id);
  }, 240_000);

  it("stops at a failing cell and names it, with its traceback as plain text", async () => {
    const id = await notebook([code("before", "print('before')"), code("boom", "ratio = 1 / 0"), code("after", "print('after')")]);
    const outcome = await run(id);
    expect(outcome).toMatchObject({
      status: "failed",
      failingCellId: "boom",
      failingCellIndex: 1,
      errorName: "ZeroDivisionError",
      errorValue: "division by zero",
    });
    expect(outcome.traceback).toContain("ZeroDivisionError");
    expect(outcome.traceback).toContain("ratio = 1 / 0");
    // eslint-disable-next-line no-control-regex
    expect(outcome.traceback).not.toMatch(/\u001b\[/);
    expect(await printed(outcome.executedNotebookId!, "before")).toBe("before\n");
    expect(await printed(outcome.executedNotebookId!, "after")).toBe("");
    await expectKernelStopped(outcome.executedNotebookId!);
  }, 120_000);

  it("runs on past a cell tagged raises-exception, and past any error with allowErrors", async () => {
    const tagged = await notebook([code("boom", "1 / 0", ["raises-exception"]), code("after", "print('after')")]);
    const ran = await run(tagged);
    expect(ran).toMatchObject({ status: "succeeded", failingCellId: null });
    expect(await printed(ran.executedNotebookId!, "after")).toBe("after\n");

    const plain = await notebook([code("boom", "1 / 0"), code("after", "print('after')")]);
    const allowed = await run(plain, { allowErrors: true });
    expect(allowed).toMatchObject({ status: "succeeded" });
    expect(await printed(allowed.executedNotebookId!, "after")).toBe("after\n");
    const copy = (await stack.db.notebooks.get(allowed.executedNotebookId!))!;
    expect(copy.cells[0]!.outputs).toEqual([expect.objectContaining({ output_type: "error", ename: "ZeroDivisionError" })]);
  }, 180_000);

  it("interrupts and stops a run that outlives its timeout, naming the cell it was in", async () => {
    const id = await notebook([
      code("quick", "print('quick')"),
      code("slow", "import time\ntime.sleep(600)"),
      code("never", "print('never')"),
    ]);
    const outcome = await run(id, { timeoutMs: 3_000 });
    expect(outcome).toMatchObject({ status: "timed_out", failingCellId: "slow", failingCellIndex: 1, errorName: "TimeoutError" });
    expect(outcome.errorValue).toBe("The run did not finish within 3 s.");
    // The interrupt's traceback says where it was.
    expect(outcome.traceback).toContain("KeyboardInterrupt");
    expect(await printed(outcome.executedNotebookId!, "never")).toBe("");
    await expectKernelStopped(outcome.executedNotebookId!);
  }, 120_000);

  it("a cancelled run stops its kernel", async () => {
    const id = await notebook([code("slow", "import time\ntime.sleep(600)")]);
    const cancel = new AbortController();
    const outcome = await run(id, {
      signal: cancel.signal,
      onProgress: (p) => p.cellId === "slow" && setTimeout(() => cancel.abort(), 500),
    });
    expect(outcome).toMatchObject({ status: "cancelled", failingCellId: "slow", errorValue: "The run was cancelled." });
    await expectKernelStopped(outcome.executedNotebookId!);
  }, 120_000);

  it("fails before any cell runs when a parameter's name is not a Python name", async () => {
    const id = await notebook([code("a", "print('a')")]);
    const outcome = await run(id, { parameters: { "not a name": 1 } });
    expect(outcome).toMatchObject({
      status: "failed",
      executedNotebookId: null,
      errorName: "ParameterError",
      errorValue: 'parameter name "not a name" is not a Python identifier (letters, digits and _, not starting with a digit)',
    });
  });

  it("runs on the source notebook's image", async () => {
    const id = await notebook([code("which", "import networkx\nprint(networkx.__name__)")]);
    await stack.db.notebooks.update(id, { image: "networkx" });
    const outcome = await run(id);
    expect(outcome).toMatchObject({ status: "succeeded" });
    expect(await printed(outcome.executedNotebookId!, "which")).toBe("networkx\n");
  }, 180_000);

  it("a run that prints far more than the output limit keeps the limit's worth, and is still recorded", async () => {
    const id = await notebook([
      code("flood", "import sys\nfor _ in range(50):\n    sys.stdout.write('x' * 1_000_000)"),
      code("after", "print('after')"),
    ]);
    const outcome = await run(id);
    expect(outcome).toMatchObject({ status: "succeeded" });
    const copy = (await stack.db.notebooks.get(outcome.executedNotebookId!))!;
    const flood = copy.cells.find((c) => c.id === "flood")!;
    const chars = flood.outputs.reduce((n, o) => n + (o.output_type === "stream" ? o.text.length : 0), 0);
    expect(chars).toBeLessThanOrEqual(DEFAULT_OUTPUT_LIMITS.maxChars);
    expect(flood.outputs.at(-1)).toMatchObject({ output_type: "display_data", metadata: { [TRUNCATION_NOTE_KEY]: true } });
    expect(await printed(copy.id, "after")).toBe("after\n");
  }, 180_000);

  // Last: it takes the worker down.
  it("a run whose worker dies fails with the reason", async () => {
    const id = await notebook([code("slow", "import time\ntime.sleep(600)")]);
    const outcome = await run(id, { onProgress: () => setTimeout(() => stack.worker.kill("SIGKILL"), 500) });
    expect(outcome).toMatchObject({
      status: "failed",
      failingCellId: "slow",
      errorName: "WorkerLost",
      errorValue: `Worker ${stack.workerId} was lost mid-run: it disconnected and did not come back with the run's kernel.`,
      workerId: stack.workerId,
    });
    await expectKernelStopped(outcome.executedNotebookId!);
  }, 120_000);
});
