// Integration tests: terminals in a real runsc sandbox booting the real base image (build it with
// scripts/build-base-image.sh; these tests fail, not skip, when it is missing).
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TerminalEvent } from "@cellar/protocol";
import { execute } from "../testing/kernel-run";
import { startKernelSandbox, type KernelSandbox } from "./kernel-sandbox";

const IMAGE = process.env.CELLAR_BASE_IMAGE ?? path.join(process.env.CELLAR_CACHE ?? "/var/cache/cellar", "images/base/rootfs");
const RUN_ID = randomBytes(3).toString("hex");

/** Everything one terminal printed, with a way to wait for text to appear after a mark. */
class Screen {
  text = "";
  exit: string | null = null;
  private waiters: (() => void)[] = [];

  constructor(
    sb: KernelSandbox,
    readonly id: string,
  ) {
    sb.terminals.on("event", (e: TerminalEvent) => {
      if (e.id !== id) return;
      if (e.type === "output") this.text += Buffer.from(e.data, "base64").toString("utf8");
      else this.exit = e.reason;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Resolves with the output from `from` on once it matches; after `ms` it fails showing what
   * the terminal did print, so a miss under load can be told from a wrong answer. */
  async waitFor(pattern: RegExp, from = 0, ms = 20_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const seen = this.text.slice(from);
      if (pattern.test(seen)) return seen;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the terminal never printed ${pattern}; it printed ${JSON.stringify(seen)}`);
      await Promise.race([this.next(), new Promise((r) => setTimeout(r, left))]);
    }
  }

  async waitForExit(): Promise<string> {
    while (this.exit === null) await this.next();
    return this.exit;
  }

  private next(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }
}

/** Runs a cell; resolves with its stdout once it is done. */
const run = async (sb: KernelSandbox, code: string) => (await execute(sb, code)).stdout();

let stateRoot: string;
let workRoot: string;
let sb: KernelSandbox;

beforeAll(async () => {
  if (!existsSync(path.join(IMAGE, "usr/bin/python3"))) {
    throw new Error(`base image missing at ${IMAGE}: build it with scripts/build-base-image.sh (or set CELLAR_BASE_IMAGE)`);
  }
  if (process.getuid?.() !== 0) throw new Error("runsc needs root: run these tests as root");
  stateRoot = await mkdtemp(path.join(tmpdir(), "cellar-term-state-"));
  workRoot = await mkdtemp(path.join(tmpdir(), "cellar-term-ws-"));
  sb = await startKernelSandbox({
    sessionId: `t${RUN_ID}-term`,
    imageRootfs: IMAGE,
    workspaceDir: path.join(workRoot, "ws"),
    stateRoot,
    limits: { memoryBytes: 4 * 1024 ** 3, pids: 256 },
  });
}, 90_000);

afterAll(async () => {
  await sb?.stop();
  if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
  if (workRoot) await rm(workRoot, { recursive: true, force: true });
}, 60_000);

describe("a terminal in the kernel's sandbox", { timeout: 30_000 }, () => {
  let screen: Screen;

  beforeAll(() => {
    screen = new Screen(sb, "t1");
    sb.terminals.request({ type: "open", id: "t1", cols: 80, rows: 24 });
  });

  it("runs a shell as the sandbox user in /workspace", async () => {
    const mark = screen.text.length;
    sb.terminals.request({ type: "input", id: "t1", data: "echo $((6*7)) $(id -u) $PWD $TERM\n" });
    expect(await screen.waitFor(/42 1000 \/workspace xterm-256color/, mark)).toMatch(/42 1000 \/workspace xterm-256color/);
  });

  it("has a real pty: stty size follows a resize", async () => {
    sb.terminals.request({ type: "resize", id: "t1", cols: 100, rows: 30 });
    const mark = screen.text.length;
    sb.terminals.request({ type: "input", id: "t1", data: "stty size\n" });
    expect(await screen.waitFor(/(^|[\r\n])30 100\r?\n/, mark)).toMatch(/30 100/);
  });

  it("Ctrl+C interrupts the running command and the shell carries on", async () => {
    const mark = screen.text.length;
    // The command prints once it runs, so the Ctrl+C cannot land before it has started.
    sb.terminals.request({ type: "input", id: "t1", data: "sh -c 'echo sleeping-$((6*7)); exec sleep 100'\n" });
    await screen.waitFor(/sleeping-42/, mark);
    sb.terminals.request({ type: "input", id: "t1", data: "\x03" });
    const after = screen.text.length;
    sb.terminals.request({ type: "input", id: "t1", data: "echo back-$?\n" });
    // Without the interrupt, `echo` would only run when sleep ends, long after this test's
    // timeout; 130 is "killed by SIGINT".
    expect(await screen.waitFor(/back-130/, after)).toMatch(/\^C/);
  });

  it("shares /workspace with the kernel", async () => {
    const mark = screen.text.length;
    sb.terminals.request({ type: "input", id: "t1", data: "echo from-the-terminal > /workspace/x && echo written-$((1+1))\n" });
    await screen.waitFor(/written-2/, mark);
    expect(await run(sb, "print(open('/workspace/x').read())")).toBe("from-the-terminal\n\n");
    // runsc 20221219 refused coreutils' statx flags (AT_NO_AUTOMOUNT): ls said "Invalid argument".
    const listed = screen.text.length;
    sb.terminals.request({ type: "input", id: "t1", data: "ls -l /workspace && echo listed-$((2+2))\n" });
    const out = await screen.waitFor(/listed-4|Invalid argument/, listed);
    expect(out).toMatch(/-rw-r--r-- 1 cellar cellar\s+\d+ .* x\r?\n/);
    expect(out).not.toMatch(/Invalid argument/);
    expect(
      await run(
        sb,
        "import subprocess\nprint(subprocess.run(['stat', '-c', '%U %s', '/workspace/x'], capture_output=True, text=True).stdout)",
      ),
    ).toBe("cellar 18\n\n");
  });

  it("runs top and vim-tiny from the image", async () => {
    const mark = screen.text.length;
    // Interactive top (runsc 20221219 refused its tcsetattr(TCSAFLUSH): "failed tty set").
    sb.terminals.request({ type: "input", id: "t1", data: "top\n" });
    const shown = await screen.waitFor(/Tasks:[\s\S]*load average|load average[\s\S]*Tasks:|failed tty set/, mark);
    expect(shown).not.toMatch(/failed tty set/);
    const quit = screen.text.length;
    sb.terminals.request({ type: "input", id: "t1", data: "q" });
    // top flushes typed-ahead input as it restores the tty: type only once the prompt is back.
    await screen.waitFor(/\/workspace\$ $/, quit);
    sb.terminals.request({ type: "input", id: "t1", data: "echo top-left-$?; vi --version | head -1\n" });
    const out = await screen.waitFor(/VIM - Vi IMproved/, quit);
    expect(out).toMatch(/top-left-0/);
  });

  it("keeps several terminals apart, and `exit` ends one with its code", async () => {
    const other = new Screen(sb, "t2");
    sb.terminals.request({ type: "open", id: "t2", cols: 80, rows: 24 });
    sb.terminals.request({ type: "input", id: "t2", data: "echo only-in-$((1+1)); exit 3\n" });
    await other.waitFor(/only-in-2/);
    expect(await other.waitForExit()).toBe("shell exited with code 3");
    expect(screen.text).not.toMatch(/only-in-2/);
  });

  it("a checkpoint closes open terminals first and succeeds", async () => {
    const imagePath = path.join(workRoot, "checkpoint");
    await sb.checkpoint(imagePath);
    expect(screen.exit).toBe("kernel suspended");
    expect(sb.terminals.openIds).toEqual([]);
  });
});
