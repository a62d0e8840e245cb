// `%pip install` in a cell through the real stack: the real gateway and image catalog, a real
// worker process, gVisor sandboxes and IPython kernels, and pip layers built on the host from
// this machine's local wheel index. What a user notices: the cell shows the build, the next
// cell imports the package with earlier variables intact, a restarted kernel and a second
// notebook have it, and a bad package leaves the kernel as it was.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { notebookPackagesOf } from "@cellar/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayHarness, type Page, until } from "../testing/gateway-harness";
import { CACHE, LOCAL_PIP_INDEX, pipStackUnavailable, REPO, startRealStack, type RealStack } from "../testing/real-stack";

const INDEX = LOCAL_PIP_INDEX;
const missing = pipStackUnavailable();
if (missing) console.log(`notebook-packages.stack.test: skipped: ${missing}`);

describe.skipIf(!!missing)("%pip install in a cell", () => {
  const harness = new GatewayHarness();
  const specs = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-pip-cell-specs-"));
  let stack: RealStack;
  let page: Page;
  let cellNo = 0;

  beforeAll(async () => {
    fs.copyFileSync(path.join(REPO, "images/base.json"), path.join(specs, "base.json"));
    // Each run resolves afresh (the cold path), as a machine that never built these would.
    fs.rmSync(path.join(CACHE, "images/notebooks"), { recursive: true, force: true });
    stack = await startRealStack({ specsDir: specs, pipIndex: `file://${INDEX}` });
    page = harness.page(stack.url, { authorization: `Bearer ${stack.token}` });
  }, 120_000);
  afterAll(async () => {
    await harness.close();
    await stack?.close();
    fs.rmSync(specs, { recursive: true, force: true });
  }, 60_000);

  /** Runs `code` as a new cell of the notebook; resolves with what it printed and its error. */
  async function run(notebookId: string, code: string, timeoutMs = 180_000) {
    const cellId = `cell-${++cellNo}`;
    const from = page.messages.length;
    expect(await page.run(notebookId, code, cellId)).toEqual({ ok: true });
    const ours = () => page.messages.slice(from);
    await until(() => ours().some((m) => m.header.msg_type === "execute_reply"), `the reply to ${JSON.stringify(code)}`, timeoutMs);
    const messages = ours();
    const text = messages
      .filter((m) => m.header.msg_type === "stream")
      .map((m) => (m.content as { text: string }).text)
      .join("");
    const error = messages.find((m) => m.header.msg_type === "error")?.content as { ename: string; evalue: string } | undefined;
    return { text, error, messages };
  }

  async function openNotebook(title: string) {
    const nb = await stack.db.notebooks.create(stack.db.localUserId, title);
    await page.open(nb.id);
    await until(() => kernelIdle(page.events, nb.id), "the kernel to start", 120_000);
    return nb;
  }

  it("builds the package, moves the kernel onto it with its variables, and the notebook keeps it", async () => {
    const nb = await openNotebook("pip a");
    expect((await run(nb.id, "x = 41\nrows = [1, 2, 3]")).error).toBeUndefined();

    const installed = await run(nb.id, "%pip install tabulate\nimport tabulate\nprint(tabulate.tabulate([[x + 1]]), len(rows))");
    expect(installed.error).toBeUndefined();
    expect(installed.text).toMatch(/resolving tabulate against file:\/\/\/opt\/pypi\/simple over base/);
    // Installed now, or found built by an earlier run on this machine's cache.
    expect(installed.text).toMatch(/installing 1 wheels|built into a layer already/);
    expect(installed.text).toMatch(/the kernel is on pip-[0-9a-f]{12}: \d+ names .* moved in/);
    expect(installed.text).toMatch(/--\n42\n--\s+3\n/);

    const saved = (await stack.db.notebooks.get(nb.id))!;
    expect(saved.image).toMatch(/^pip-[0-9a-f]{12}$/);
    expect(notebookPackagesOf(saved.metadata)).toMatchObject({
      from: "base",
      pip: ["tabulate"],
      lock: { packages: [{ name: "tabulate", version: expect.any(String) }] },
    });

    const listed = await run(nb.id, "%pip list");
    expect(listed.text).toMatch(/^Package +Version\n/);
    expect(listed.text).toMatch(/\ntabulate +\d/);

    // A new session of the notebook starts on its packages' image.
    const before = page.events.length;
    expect(await page.socket.timeout(60_000).emitWithAck("kernel:restart", { notebookId: nb.id })).toEqual({ ok: true });
    await until(() => kernelIdle(page.events.slice(before), nb.id), "the restarted kernel", 120_000);
    const after = await run(nb.id, "import tabulate\nprint(tabulate.__name__, 'x' in dir())");
    expect(after.text).toBe("tabulate False\n");
  }, 600_000);

  it("a second notebook asking for the same package gets the cached layer; uninstall goes back to base", async () => {
    const nb = await openNotebook("pip b");
    const installed = await run(nb.id, "%pip install tabulate\nimport tabulate");
    expect(installed.error).toBeUndefined();
    expect(installed.text).not.toMatch(/resolving|installing/);
    expect(installed.text).toMatch(/the kernel is on pip-/);

    const removed = await run(nb.id, "%pip uninstall -y tabulate\ny = 1");
    expect(removed.error).toBeUndefined();
    expect(removed.text).toMatch(/no pip packages left: back to the image base/);
    const saved = (await stack.db.notebooks.get(nb.id))!;
    expect(saved.image).toBe("base");
    expect(notebookPackagesOf(saved.metadata)).toBeNull();
    expect((await run(nb.id, "import tabulate")).error).toMatchObject({ ename: "ModuleNotFoundError" });
  }, 600_000);

  it("a package the index does not have fails naming it, and the kernel keeps its variables", async () => {
    const nb = await openNotebook("pip c");
    await run(nb.id, "kept = 'yes'");
    const failed = await run(nb.id, "%pip install no-such-package-cellar");
    expect(failed.error).toMatchObject({ ename: "PipError", evalue: expect.stringContaining("has no package no-such-package-cellar") });
    expect((await run(nb.id, "print(kept)")).text).toBe("yes\n");
    expect((await stack.db.notebooks.get(nb.id))!.image).toBe("base");
    const misplaced = await run(nb.id, "z = 1\n%pip install tabulate");
    expect(misplaced.error).toMatchObject({ ename: "UsageError", evalue: expect.stringContaining("put %pip at the top of a cell") });
  }, 600_000);
});

function kernelIdle(events: Array<{ event: string; payload: unknown }>, notebookId: string): boolean {
  return events.some((e) => e.event === "kernel:status" && isFor(e.payload, notebookId, "idle"));
}

function isFor(payload: unknown, notebookId: string, status: string): boolean {
  const p = payload as { notebookId?: string; status?: string };
  return p.notebookId === notebookId && p.status === status;
}
