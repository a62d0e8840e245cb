import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildOciConfig, containerIdFor, DEFAULT_BRIDGE_DIR, writeBundle } from "./bundle";
import { describeExit } from "./exit-reason";

type Mount = { destination: string; type: string; source: string; options?: string[] };
type Config = {
  process: { args: string[]; env: string[]; cwd: string; user: { uid: number }; rlimits: { type: string; hard: number }[] };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: Mount[];
  linux: { namespaces: { type: string }[] };
};

const opts = {
  sessionId: "Sess_01",
  imageRootfs: "/images/base/rootfs",
  workspaceDir: "/srv/ws/sess",
  limits: { memoryBytes: 2 * 1024 ** 3, pids: 128 },
};

describe("OCI bundle for a kernel sandbox", () => {
  const config = buildOciConfig(opts) as unknown as Config;
  const mount = (dest: string) => config.mounts.find((m) => m.destination === dest);

  it("boots the kernel bridge from a read-only image root", () => {
    expect(config.root).toEqual({ path: "/images/base/rootfs", readonly: true });
    expect(config.process.args).toEqual(["python3", "/opt/cellar/bridge/cellar_kernel_bridge.py"]);
    expect(mount("/opt/cellar/bridge")).toMatchObject({ type: "bind", source: DEFAULT_BRIDGE_DIR });
    expect(mount("/opt/cellar/bridge")?.options).toContain("ro");
  });

  it("gives the user a writable workspace as the working directory and scratch tmpfs", () => {
    expect(mount("/workspace")).toMatchObject({ type: "bind", source: "/srv/ws/sess" });
    expect(mount("/workspace")?.options).toContain("rw");
    expect(config.process.cwd).toBe("/workspace");
    expect(mount("/tmp")?.type).toBe("tmpfs");
    expect(mount("/home/cellar")?.type).toBe("tmpfs");
    expect(mount("/home/cellar")?.options).toContain("uid=1000");
  });

  it("runs as the image's unprivileged user with unbuffered Python, inline plots and plotly's mime type", () => {
    expect(config.process.user.uid).toBe(1000);
    expect(config.process.env).toContain("HOME=/home/cellar");
    expect(config.process.env).toContain("PYTHONUNBUFFERED=1");
    expect(config.process.env).toContain("PLOTLY_RENDERER=plotly_mimetype");
    expect(config.process.env.some((e) => e.startsWith("MPLBACKEND="))).toBe(false);
  });

  it("limits memory and processes with rlimits, and isolates the network namespace", () => {
    expect(config.process.rlimits).toContainEqual(expect.objectContaining({ type: "RLIMIT_AS", hard: 2 * 1024 ** 3 }));
    expect(config.process.rlimits).toContainEqual(expect.objectContaining({ type: "RLIMIT_NPROC", hard: 128 }));
    expect(config.linux.namespaces.map((n) => n.type)).toContain("network");
  });

  it("names the host after the session", () => {
    expect(config.hostname).toBe("cellar-sess-01");
  });

  it("refuses session ids that could escape a path or a container id", () => {
    expect(() => containerIdFor("../etc")).toThrow(/invalid session id/);
    expect(() => containerIdFor("a b")).toThrow(/invalid session id/);
    expect(containerIdFor("abc-1.2_x")).toBe("cellar-abc-1.2_x");
  });

  it("lets only a snapshot boot start privileged, so a restore can rename the host and drop to the user", () => {
    const snap = buildOciConfig({ ...opts, snapshotBoot: true }) as unknown as Config & {
      process: { capabilities: { effective: string[] } };
    };
    expect(snap.process.user.uid).toBe(0);
    expect(snap.process.env).toContain("CELLAR_SNAPSHOT_BOOT=1");
    expect(snap.process.capabilities.effective).toEqual(expect.arrayContaining(["CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID"]));
    const plain = config as unknown as { process: { capabilities: { effective: string[] }; env: string[] } };
    expect(plain.process.capabilities.effective).toEqual([]);
    expect(plain.process.env.some((e) => e.startsWith("CELLAR_SNAPSHOT_BOOT"))).toBe(false);
  });

  it("rejects non-positive limits", () => {
    expect(() => buildOciConfig({ ...opts, limits: { memoryBytes: 0, pids: 10 } })).toThrow(/limits/);
  });

  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("writes config.json and hands the workspace to the sandbox user", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "cellar-bundle-"));
    dirs.push(dir);
    const workspaceDir = path.join(dir, "ws");
    const file = await writeBundle(path.join(dir, "bundle"), { ...opts, workspaceDir });
    expect(JSON.parse(await readFile(file, "utf8")).root.readonly).toBe(true);
    expect((await stat(workspaceDir)).uid).toBe(1000);
  });
});

describe("exit reasons in the user's words", () => {
  it("says how the kernel ended", () => {
    expect(describeExit(1, null, "", false)).toBe("The kernel process exited with code 1");
    expect(describeExit(0, null, "", false)).toBe("The kernel process exited");
    expect(describeExit(137, null, "", false)).toMatch(/ran out of memory/);
    expect(describeExit(139, null, "", false)).toBe("The kernel process was killed by SIGSEGV");
    expect(describeExit(null, "SIGKILL", "", false)).toMatch(/ran out of memory/);
    expect(describeExit(1, null, "fatal: out of memory", false)).toMatch(/ran out of memory/);
    expect(describeExit(null, "SIGKILL", "", true)).toBe("The kernel was stopped");
    expect(describeExit(128, null, 'running container: starting container: error finding executable "python3"', false)).toBe(
      "The kernel's sandbox could not be started",
    );
  });
});
