// Integration test: a real kernel under crun, the fallback runtime GPU kernels get where runsc's
// nvproxy does not know the host's driver. There is no GPU here, so the kernel is a CPU one: what
// is checked is the runtime and its walls (user namespace, seccomp, no capabilities, no network),
// which are the same with the devices passed through (those are checked in gpu-spec.test.ts).
// Needs root, crun and the seccomp profile (scripts/install-system.sh), and the base image.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execute } from "../testing/kernel-run";
import { crunList } from "./crun";
import { CRUN_ID_BASE, DEFAULT_SECCOMP_PROFILE } from "./crun-spec";
import { reapOrphanSandboxes, startKernelSandbox, type KernelSandbox } from "./kernel-sandbox";
import { SANDBOX_UID } from "./bundle";

const IMAGE = process.env.CELLAR_BASE_IMAGE ?? path.join(process.env.CELLAR_CACHE ?? "/var/cache/cellar", "images/base/rootfs");
const sessionId = `c${randomBytes(3).toString("hex")}-crun`;

let stateRoot: string;
let workspaceDir: string;
let sb: KernelSandbox;

const py = async (code: string) => {
  const run = await execute(sb, code);
  expect(run.reply.content.status, JSON.stringify(run.of("error")[0]?.content)).toBe("ok");
  return run
    .of("stream")
    .map((m) => m.content.text)
    .join("");
};

beforeAll(async () => {
  if (!existsSync(path.join(IMAGE, "usr/bin/python3"))) throw new Error(`base image missing at ${IMAGE}: run scripts/build-base-image.sh`);
  if (!existsSync(DEFAULT_SECCOMP_PROFILE)) throw new Error(`${DEFAULT_SECCOMP_PROFILE} missing: run scripts/install-system.sh`);
  stateRoot = await mkdtemp(path.join(tmpdir(), "cellar-crun-state-"));
  workspaceDir = path.join(await mkdtemp(path.join(tmpdir(), "cellar-crun-ws-")), "ws");
  const t0 = performance.now();
  sb = await startKernelSandbox({
    sessionId,
    imageRootfs: IMAGE,
    workspaceDir,
    stateRoot,
    limits: { memoryBytes: 4 * 1024 ** 3, pids: 256 },
    runtime: "crun",
  });
  console.log(`[measure] crun cold start (startKernelSandbox -> ready): ${(performance.now() - t0).toFixed(0)} ms`);
}, 90_000);

afterAll(async () => {
  await sb?.stop();
  if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
  if (workspaceDir) await rm(path.dirname(workspaceDir), { recursive: true, force: true });
}, 60_000);

describe("a kernel under crun", { timeout: 60_000 }, () => {
  it("runs cells with numpy like a gVisor kernel, on the host's own Linux kernel", async () => {
    expect(sb.runtime).toBe("crun");
    expect(await py("import numpy as np\nprint(int(np.arange(10).sum()))")).toBe("45\n");
    // gVisor answers uname with its own 4.4.0; crun's kernel is the host's.
    const release = (await readFile("/proc/sys/kernel/osrelease", "utf8")).trim();
    expect(await py("import os; print(os.uname().release)")).toBe(`${release}\n`);
  });

  it("is the sandbox user, with root inside mapped to an unprivileged range outside", async () => {
    expect(await py("import os; print(os.getuid(), os.getgid())")).toBe(`${SANDBOX_UID} ${SANDBOX_UID}\n`);
    const map = await py("print(open('/proc/self/uid_map').read())");
    const rows = map
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/).map(Number));
    expect(rows).toContainEqual([0, CRUN_ID_BASE, SANDBOX_UID]);
    expect(rows).toContainEqual([SANDBOX_UID, SANDBOX_UID, 1]);
    // Host uid 0 is no id inside: nothing in the sandbox is the host's root.
    expect(rows.every(([, host]) => host !== 0)).toBe(true);
  });

  it("has no capabilities, no new privileges, and seccomp filtering its system calls", async () => {
    const status = await py(
      "s = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())\n" +
        "print(*(s[k].strip() for k in ('CapEff', 'CapPrm', 'CapBnd', 'NoNewPrivs', 'Seccomp')))",
    );
    expect(status).toBe("0000000000000000 0000000000000000 0000000000000000 1 2\n");
    // The profile refuses what a tenant has no business calling, e.g. loading kernel modules.
    expect(
      await py(
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n" +
          "print(libc.syscall(175, None, 0, b''), os.strerror(ctypes.get_errno()))", // init_module
      ),
    ).toBe("-1 Operation not permitted\n");
  });

  it("has no network but loopback", async () => {
    expect(await py("import os; print(sorted(os.listdir('/sys/class/net')))")).toBe("['lo']\n");
    const run = await execute(sb, "import socket; socket.create_connection(('1.1.1.1', 53), timeout=3)");
    expect(run.reply.content.status).toBe("error");
  });

  it("writes the workspace as the same host user a gVisor kernel would", async () => {
    await py("open('/workspace/from-crun.txt', 'w').write('hello')");
    const file = path.join(workspaceDir, "from-crun.txt");
    expect(await readFile(file, "utf8")).toBe("hello");
    expect((await stat(file)).uid).toBe(SANDBOX_UID);
    await writeFile(path.join(workspaceDir, "from-host.txt"), "host");
    expect(await py("print(open('/workspace/from-host.txt').read())")).toBe("host\n");
    // The image itself is read-only.
    expect((await execute(sb, "open('/usr/lib/x.txt', 'w')")).reply.content.status).toBe("error");
  });

  it("is never checkpointed, and a stop leaves no container behind", async () => {
    await expect(sb.checkpoint(path.join(stateRoot, "ckpt"))).rejects.toThrow(/crun/);
    expect(await crunList({ stateRoot })).toContain(`cellar-${sessionId}`);
    await sb.stop();
    expect(await crunList({ stateRoot })).toEqual([]);
    expect(await reapOrphanSandboxes(stateRoot)).toEqual([]);
  });
});
