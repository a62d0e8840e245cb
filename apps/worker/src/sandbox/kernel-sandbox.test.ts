// Integration tests: a real runsc sandbox booting the real base image. Build the image first with
// scripts/build-base-image.sh; these tests fail (not skip) when it is missing.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeRequest, makeMessage } from "@cellar/protocol";
import { execute, request } from "../testing/kernel-run";
import { containerIdFor, writeBundle } from "./bundle";
import {
  bundleDirFor,
  reapOrphanSandboxes,
  startKernelSandbox,
  type KernelSandbox,
  type KernelSandboxExit,
  type KernelSandboxOptions,
} from "./kernel-sandbox";
import { runscList, runscRun } from "./runsc";

const IMAGE = process.env.CELLAR_BASE_IMAGE ?? path.join(process.env.CELLAR_CACHE ?? "/var/cache/cellar", "images/base/rootfs");
const LIMITS = { memoryBytes: 4 * 1024 ** 3, pids: 256 };
const BOOT_TIMEOUT = 90_000;
// runsc names each sandbox's control socket after its container id host-wide, whatever --root
// says, so ids must not collide with other test runs on the same machine.
const RUN_ID = randomBytes(3).toString("hex");
const sid = (name: string) => `t${RUN_ID}-${name}`;

function nextExit(sb: KernelSandbox): Promise<KernelSandboxExit> {
  return new Promise((resolve) => sb.once("exit", resolve));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

let stateRoot: string;
let workRoot: string;
const started: KernelSandbox[] = [];

function options(sessionId: string, overrides: Partial<KernelSandboxOptions> = {}): KernelSandboxOptions {
  return { sessionId, imageRootfs: IMAGE, workspaceDir: path.join(workRoot, sessionId), stateRoot, limits: LIMITS, ...overrides };
}

async function start(sessionId: string, overrides: Partial<KernelSandboxOptions> = {}): Promise<KernelSandbox> {
  const sb = await startKernelSandbox(options(sessionId, overrides));
  started.push(sb);
  return sb;
}

async function containerIds(): Promise<string[]> {
  return (await runscList({ stateRoot })).map((c) => c.id);
}

beforeAll(async () => {
  if (!existsSync(path.join(IMAGE, "usr/bin/python3"))) {
    throw new Error(`base image missing at ${IMAGE}: build it with scripts/build-base-image.sh (or set CELLAR_BASE_IMAGE)`);
  }
  if (process.getuid?.() !== 0) throw new Error("runsc needs root: run these tests as root");
  stateRoot = await mkdtemp(path.join(tmpdir(), "cellar-sbx-state-"));
  workRoot = await mkdtemp(path.join(tmpdir(), "cellar-sbx-ws-"));
});

afterAll(async () => {
  await Promise.all(started.map((sb) => sb.stop()));
  if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
  if (workRoot) await rm(workRoot, { recursive: true, force: true });
}, 60_000);

describe("a kernel in a gVisor sandbox", { timeout: 60_000 }, () => {
  let sb: KernelSandbox;
  let coldStartMs = 0;

  beforeAll(async () => {
    const t0 = performance.now();
    sb = await start(sid("main"));
    coldStartMs = performance.now() - t0;
    console.log(`[measure] cold start (startKernelSandbox -> ready): ${coldStartMs.toFixed(0)} ms`);
  }, BOOT_TIMEOUT);

  it("prints to stdout and replies ok", async () => {
    const run = await execute(sb, "print(1+1)");
    expect(run.of("stream")[0].content).toEqual({ name: "stdout", text: "2\n" });
    expect(run.reply.header.msg_type).toBe("execute_reply");
    expect(run.reply.content.status).toBe("ok");
    // Outputs are attributed to the exact request header, and come before the reply.
    expect(run.messages.every((m) => JSON.stringify(m.parent_header) === JSON.stringify(run.messages[0].parent_header))).toBe(true);
    expect(run.messages.indexOf(run.of("stream")[0])).toBeLessThan(run.messages.indexOf(run.reply));
    expect(run.messages[0].content).toEqual({ execution_state: "busy" });
  });

  it("increments the execution count per cell", async () => {
    const a = await execute(sb, "a = 1");
    const b = await execute(sb, "b = 2");
    expect(b.reply.content.execution_count).toBe((a.reply.content.execution_count as number) + 1);
    expect(b.of("execute_input")[0].content.execution_count).toBe(b.reply.content.execution_count);
  });

  it("shows the value of the last expression", async () => {
    const run = await execute(sb, "import numpy as np\nnp.arange(5)");
    expect(run.of("execute_result")[0].content.data).toMatchObject({ "text/plain": "array([0, 1, 2, 3, 4])" });
    expect((await execute(sb, "1+1")).of("execute_result")[0].content.data).toMatchObject({ "text/plain": "2" });
  });

  it("renders matplotlib figures inline as PNG, with plt.show() and at the end of a cell", async () => {
    const shown = await execute(sb, "import matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()");
    const png = shown.of("display_data")[0]?.content.data["image/png"];
    expect(Buffer.from(String(png), "base64").subarray(1, 4).toString()).toBe("PNG");

    const implicit = await execute(sb, "plt.figure(); plt.plot([3, 1])");
    expect(implicit.of("display_data").some((d) => typeof d.content.data["image/png"] === "string")).toBe(true);
  });

  it("shows a plotly figure as plotly's own mime type, without the notebook renderer's inline plotly.js", async () => {
    const run = await execute(
      sb,
      "import plotly.express as px, plotly.io as pio\nprint(pio.renderers.default)\npx.bar(x=['a', 'b'], y=[1, 3]).show()",
      { timeoutMs: 60_000 },
    );
    expect(run.reply.content.status).toBe("ok");
    expect(run.stdout()).toBe("plotly_mimetype\n");
    const shown = run.of("display_data");
    expect(shown).toHaveLength(1);
    expect(Object.keys(shown[0]!.content.data)).toContain("application/vnd.plotly.v1+json");
    expect(Object.keys(shown[0]!.content.data)).not.toContain("text/html");
    expect(shown[0]!.content.data["application/vnd.plotly.v1+json"]).toMatchObject({ data: [expect.objectContaining({ type: "bar" })] });
    expect(JSON.stringify(run.messages).length).toBeLessThan(100_000);
  }, 90_000);

  it("has the data scientist's Debian packages, and ipywidgets 8 from pip (not bookworm's 6)", async () => {
    const run = await execute(
      sb,
      "import sklearn, seaborn, statsmodels.api, altair, folium, tqdm, requests, ipywidgets\nprint(sklearn.__version__, ipywidgets.__version__, ipywidgets.__file__)",
      { timeoutMs: 60_000 },
    );
    expect(run.reply.content.status).toBe("ok");
    expect(run.stdout()).toMatch(/^1\.\d+\.\d+ 8\.\d+\.\d+ \/usr\/local\/lib\/python3[.\d]*\/dist-packages\/ipywidgets\/__init__\.py\n$/);
  }, 90_000);

  it("reports errors with a coloured traceback", async () => {
    const run = await execute(sb, 'raise ValueError("x")');
    const err = run.of("error")[0].content;
    expect(err.ename).toBe("ValueError");
    expect(err.evalue).toBe("x");
    expect(err.traceback.join("\n")).toContain("\u001b[");
    expect(run.reply.content.status).toBe("error");
  });

  it("streams output line by line while a cell is still running", async () => {
    const run = await execute(sb, "import time\nfor i in range(4):\n    print(i)\n    time.sleep(0.8)");
    expect(run.stdout()).toBe("0\n1\n2\n3\n");
    const streams = run.messages.map((m, i) => ({ m, t: run.at[i] })).filter((x) => x.m.header.msg_type === "stream");
    expect(streams.length).toBeGreaterThanOrEqual(3);
    // The first line shows up long before the cell ends; lines arrive spread over its run.
    expect(streams[0].t).toBeLessThan(1000);
    expect(streams[streams.length - 1].t - streams[0].t).toBeGreaterThan(1800);
  });

  it("interrupts a busy loop; variables defined earlier survive", async () => {
    await execute(sb, "survivor = 42");
    const running = execute(sb, "while True: pass", {
      onMessage: (m) => {
        if (m.header.msg_type === "execute_input") setTimeout(() => sb.interrupt(), 500);
      },
    });
    const run = await running;
    expect(run.of("error")[0].content.ename).toBe("KeyboardInterrupt");
    expect(run.reply.content.status).toBe("error");
    const after = await execute(sb, "survivor");
    expect(after.of("execute_result")[0].content.data).toMatchObject({ "text/plain": "42" });
  });

  it("interrupts a long sleep promptly", async () => {
    const t0 = performance.now();
    const run = await execute(sb, "import time; time.sleep(100)", {
      onMessage: (m) => {
        if (m.header.msg_type === "execute_input") setTimeout(() => sb.interrupt(), 300);
      },
    });
    expect(run.of("error")[0].content.ename).toBe("KeyboardInterrupt");
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it("always finishes a cell however an interrupt is timed", async () => {
    const fired: Promise<void>[] = [];
    for (let i = 0; i < 15; i++) {
      const run = await execute(sb, "import time; time.sleep(0.03)", {
        timeoutMs: 5000,
        onMessage: (m) => {
          if (m.header.msg_type === "execute_input") {
            fired.push(
              new Promise((r) =>
                setTimeout(
                  () => {
                    sb.interrupt();
                    r();
                  },
                  (i * 7) % 60,
                ),
              ),
            );
          }
        },
      });
      expect(["ok", "error"]).toContain(run.reply.content.status);
    }
    // An interrupt is not aimed at a cell (as in Jupyter): let late ones land before the check.
    await Promise.all(fired);
    await new Promise((r) => setTimeout(r, 200));
    expect((await execute(sb, "survivor")).of("execute_result")[0].content.data).toMatchObject({ "text/plain": "42" });
  });

  it("ignores an interrupt between cells", async () => {
    sb.interrupt();
    await new Promise((r) => setTimeout(r, 200));
    expect((await execute(sb, "survivor + 1")).of("execute_result")[0].content.data).toMatchObject({ "text/plain": "43" });
  });

  it("keeps the message stream intact when code writes raw bytes to fd 1", async () => {
    const run = await execute(
      sb,
      "import os, subprocess\nos.write(1, b'\\x00\\x00\\x00\\x05junk\\n')\nsubprocess.run(['echo', 'child'])\nprint('still fine')",
    );
    expect(run.stdout()).toBe("still fine\n");
    expect((await execute(sb, "survivor")).reply.content.status).toBe("ok");
    expect(sb.stderrTail).toContain("junk");
  });

  it("asks the user for input() and continues with the answer", async () => {
    const msg = makeMessage(
      "execute_request",
      {
        code: "name = input('name? ')\nprint('hello', name)",
        silent: false,
        store_history: true,
        user_expressions: {},
        allow_stdin: true,
        stop_on_error: true,
      },
      { channel: "shell" },
    );
    const run = await request(sb, msg, {
      onMessage: (m) => {
        if (m.header.msg_type === "input_request") {
          expect(m.channel).toBe("stdin");
          expect(m.content.prompt).toBe("name? ");
          sb.send(makeMessage("input_reply", { value: "ada" }, { channel: "stdin", parent: m }));
        }
      },
    });
    expect(run.stdout()).toContain("hello ada\n");
  });

  it("answers completion and kernel info requests", async () => {
    const complete = await request(sb, makeMessage("complete_request", { code: "surv", cursor_pos: 4 }, { channel: "shell" }));
    expect(complete.reply.content.matches).toContain("survivor");
    const info = await request(sb, makeMessage("kernel_info_request", {}, { channel: "shell" }));
    expect((info.reply.content.language_info as { name: string }).name).toBe("python");
  });

  it("shares /workspace with the host, keeps the image read-only and has no network", async () => {
    const run = await execute(
      sb,
      [
        "import os, socket",
        "open('/workspace/note.txt', 'w').write('from the kernel')",
        "try:\n    open('/usr/evil', 'w')\nexcept OSError as e:\n    print('readonly', e.errno)",
        "try:\n    socket.create_connection(('1.1.1.1', 80), timeout=2)\nexcept OSError:\n    print('no network')",
        "print(os.getcwd(), os.getuid())",
      ].join("\n"),
    );
    expect(await readFile(path.join(workRoot, sid("main"), "note.txt"), "utf8")).toBe("from the kernel");
    expect(run.stdout()).toBe("readonly 13\nno network\n/workspace 1000\n");
  });

  it("turns an allocation beyond the memory limit into MemoryError, not a dead kernel", async () => {
    const run = await execute(sb, "big = bytearray(6 * 1024**3)");
    expect(run.of("error")[0].content.ename).toBe("MemoryError");
    expect((await execute(sb, "survivor")).reply.content.status).toBe("ok");
  });

  it("answers a simple cell quickly once warm", async () => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await execute(sb, "1+1");
      times.push(performance.now() - t0);
    }
    console.log(
      `[measure] round trip of 1+1 (request -> reply and idle): median ${median(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`,
    );
    expect(median(times)).toBeLessThan(500);
  });
});

describe("sandbox lifecycle", { timeout: 60_000 }, () => {
  it(
    "reports a kernel that exits by itself and leaves no container behind",
    async () => {
      const sb = await start(sid("exits"));
      const exited = nextExit(sb);
      sb.send(executeRequest("import os; os._exit(1)"));
      const exit = await exited;
      expect(exit.code).toBe(1);
      expect(exit.reason).toBe("The kernel process exited with code 1");
      expect(await containerIds()).not.toContain(sb.containerId);
      expect(existsSync(bundleDirFor(stateRoot, sid("exits")))).toBe(false);
      expect(() => sb.send(executeRequest("1"))).not.toThrow();
    },
    BOOT_TIMEOUT,
  );

  it(
    "stop() removes the container, reports the stop, and can be called again",
    async () => {
      const sb = await start(sid("stops"));
      expect(await containerIds()).toContain(sb.containerId);
      const exited = nextExit(sb);
      await sb.stop();
      expect((await exited).reason).toBe("The kernel was stopped");
      expect(await containerIds()).not.toContain(sb.containerId);
      await sb.stop();
      expect(() => sb.interrupt()).not.toThrow();
    },
    BOOT_TIMEOUT,
  );

  it(
    "reaps containers left behind by a previous worker",
    async () => {
      // Its own state root: reaping removes every container under one.
      const orphanState = await mkdtemp(path.join(tmpdir(), "cellar-sbx-orphans-"));
      const id = containerIdFor(sid("orphan"));
      const ids = async () => (await runscList({ stateRoot: orphanState })).map((c) => c.id);
      try {
        const bundleDir = bundleDirFor(orphanState, sid("orphan"));
        await writeBundle(bundleDir, {
          sessionId: sid("orphan"),
          imageRootfs: IMAGE,
          workspaceDir: path.join(workRoot, "orphan"),
          limits: LIMITS,
        });
        const child = await runscRun({ stateRoot: orphanState }, id, bundleDir);
        const gone = new Promise((r) => child.on("close", r));
        for (let i = 0; i < 100 && !(await ids()).includes(id); i++) await new Promise((r) => setTimeout(r, 100));
        expect(await ids()).toContain(id);

        expect(await reapOrphanSandboxes(orphanState)).toEqual([id]);
        expect(await ids()).toEqual([]);
        await gone;
      } finally {
        await reapOrphanSandboxes(orphanState);
        await rm(orphanState, { recursive: true, force: true });
      }
    },
    BOOT_TIMEOUT,
  );

  it(
    "fails to start with the sandbox's own error when the image is unusable",
    async () => {
      const bogus = await mkdtemp(path.join(tmpdir(), "cellar-empty-image-"));
      try {
        await expect(startKernelSandbox(options(sid("broken"), { imageRootfs: bogus, startTimeoutMs: 30_000 }))).rejects.toThrow(
          /exited before it was ready[\s\S]*stderr/,
        );
        expect(await containerIds()).not.toContain(containerIdFor(sid("broken")));
      } finally {
        await rm(bogus, { recursive: true, force: true });
      }
    },
    BOOT_TIMEOUT,
  );
});
