// gVisor boots from the lazy mount: the sandbox's root filesystem is an image whose every chunk is
// fetched through TypeScript on first read. Needs root and Debian's runsc (scripts/install-system.sh).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDaemon, mountImage, type MountedImage } from "./index";

const CHUNK = 1 << 20;

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("runsc on a lazy FUSE root", () => {
  let work: string;
  let mounted: MountedImage | undefined;
  const remote = new Map<string, Buffer>();
  const fetched: string[] = [];

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error("runsc and FUSE mounts need root: run these tests as root");
    await buildDaemon();
    work = await mkdtemp(join(tmpdir(), "lazyfs-runsc-"));
    const cacheDir = join(work, "cache");
    await mkdir(cacheDir);
    await mkdir(join(work, "bundle/rootfs"), { recursive: true });

    const lines = [`cellar-index 1 ${CHUNK}`];
    const dir = (p: string) => lines.push(`${p}\t40755\t0\t0\t0\t1600000000\t-\t-`);
    const file = (p: string, data: Buffer, mode = "100755") => {
      const hashes: string[] = [];
      for (let off = 0; off < data.length; off += CHUNK) {
        const chunk = data.subarray(off, off + CHUNK);
        const h = createHash("sha256").update(chunk).digest("hex");
        remote.set(h, chunk);
        hashes.push(h);
      }
      lines.push(`${p}\t${mode}\t0\t0\t${data.length}\t1600000000\t-\t${hashes.join(",") || "-"}`);
    };
    for (const d of ["/", "/bin", "/lib", "/lib/x86_64-linux-gnu", "/lib64", "/proc", "/dev", "/sys", "/tmp"]) dir(d);
    file("/bin/sh", await readFile("/usr/bin/dash"));
    file("/bin/cat", await readFile("/usr/bin/cat"));
    file("/lib/x86_64-linux-gnu/libc.so.6", await readFile("/lib/x86_64-linux-gnu/libc.so.6"));
    file("/lib64/ld-linux-x86-64.so.2", await readFile("/lib64/ld-linux-x86-64.so.2"));
    file("/hello.txt", Buffer.from("hello from the lazy image\n"), "100644");
    await writeFile(join(work, "index"), lines.join("\n") + "\n");

    mounted = await mountImage({
      indexFile: join(work, "index"),
      cacheDir,
      mountpoint: join(work, "bundle/rootfs"),
      onFetch: (h) => fetched.push(h),
      fetchChunk: async (h) => {
        await mkdir(join(cacheDir, h.slice(0, 2)), { recursive: true });
        await writeFile(join(cacheDir, h.slice(0, 2), `.${h}`), remote.get(h)!);
        await rename(join(cacheDir, h.slice(0, 2), `.${h}`), join(cacheDir, h.slice(0, 2), h));
      },
    });
    const config = {
      ociVersion: "1.0.2",
      process: {
        terminal: false,
        user: { uid: 0, gid: 0 },
        args: ["/bin/sh", "-c", "cat /hello.txt; echo done"],
        env: ["PATH=/bin"],
        cwd: "/",
        capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] },
        noNewPrivileges: true,
      },
      root: { path: "rootfs", readonly: true },
      mounts: [
        { destination: "/proc", type: "proc", source: "proc" },
        { destination: "/tmp", type: "tmpfs", source: "tmpfs" },
      ],
      linux: { namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "network" }] },
    };
    await writeFile(join(work, "bundle/config.json"), JSON.stringify(config));
  }, 60_000);

  afterAll(async () => {
    await mounted?.unmount();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("runs a program whose binaries and libraries are fetched on first read", async () => {
    const id = `lazyfs-test-${process.pid}`;
    const result = await run(
      "runsc",
      [
        `--root=${join(work, "state")}`,
        "--platform=ptrace",
        "--network=none",
        "--ignore-cgroups",
        "run",
        `--bundle=${join(work, "bundle")}`,
        id,
      ],
      60_000,
    );
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("hello from the lazy image\ndone\n");
    expect(result.code).toBe(0);
    // the shell, its loader and the file it printed all came through the fetch socket
    const hashOf = (b: Buffer) => createHash("sha256").update(b.subarray(0, CHUNK)).digest("hex");
    expect(fetched).toContain(hashOf(Buffer.from("hello from the lazy image\n")));
    expect(fetched).toContain(hashOf(await readFile("/usr/bin/dash")));
    expect(fetched).toContain(hashOf(await readFile("/lib64/ld-linux-x86-64.so.2")));
  }, 90_000);
});
