import { spawn, execFile, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { daemonIsBuilt, defaultDaemonPath } from "./daemon";
import { startFetchServer, type FetchHandlers, type FetchServer } from "./fetchServer";

const run = promisify(execFile);
const STDERR_TAIL = 4096;

export interface MountImageOptions {
  /** Index file in the daemon's format (written by writeDaemonIndex). */
  indexFile: string;
  /** Shared chunk cache: `<cacheDir>/<hash[0:2]>/<hash>`, uncompressed and verified. */
  cacheDir: string;
  /** An existing empty directory. */
  mountpoint: string;
  /**
   * Ensures the chunk is in cacheDir (its own file, or a pack file whose place it resolves with,
   * as ChunkCache.locate does); a rejection makes the read fail with EIO.
   */
  fetchChunk: FetchHandlers["fetchChunk"];
  /** Every chunk the daemon asks for, in order asked: the first-boot profile. */
  onFetch?: (hash: string) => void;
  /** Lets other users (a sandbox's uid) read the mount. Default: on when running as root. */
  allowOther?: boolean;
  /** Default: native/build/cellar-lazyfs (see buildDaemon). */
  daemonPath?: string;
  /** How long to wait for the daemon to mount. Default 10 s. */
  readyTimeoutMs?: number;
}

export interface MountedImage {
  mountpoint: string;
  /** The daemon's process id. */
  pid: number;
  /** Settles when the daemon exits, with its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Unmounts, stops the daemon and closes the fetch socket. Safe to call twice. */
  unmount(): Promise<void>;
}

/** Mounts an image read-only at options.mountpoint and serves its chunk fetches. */
export async function mountImage(options: MountImageOptions): Promise<MountedImage> {
  const daemon = options.daemonPath ?? defaultDaemonPath;
  if (!daemonIsBuilt(daemon)) {
    throw new Error(`${daemon} is missing: run \`make -C packages/fs-client/native\` (or buildDaemon())`);
  }
  const socketPath = join(tmpdir(), `cellar-lazyfs-${randomBytes(6).toString("hex")}.sock`);
  const server = await startFetchServer(socketPath, options);

  const allowOther = options.allowOther ?? process.getuid?.() === 0;
  const args = ["--index", options.indexFile, "--cache", options.cacheDir, "--fetch-socket", socketPath];
  if (allowOther) args.push("-o", "allow_other");
  args.push(options.mountpoint);

  let child: ChildProcess;
  try {
    child = spawn(daemon, args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    await server.close();
    throw err;
  }
  let stderr = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => {
    stderr = (stderr + d).slice(-STDERR_TAIL);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", () => resolve(null));
  });

  try {
    await waitForReady(child, exited, options.readyTimeoutMs ?? 10_000, () => stderr);
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    await server.close();
    throw err;
  }
  // the daemon prints nothing after "ready"; keep draining so it can never block on a full pipe
  child.stdout!.resume();

  let unmounting: Promise<void> | undefined;
  return {
    mountpoint: options.mountpoint,
    pid: child.pid!,
    exited,
    unmount() {
      unmounting ??= stop(options.mountpoint, child, exited, server);
      return unmounting;
    },
  };
}

function waitForReady(child: ChildProcess, exited: Promise<number | null>, timeoutMs: number, stderrTail: () => string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      reject(new Error(`cellar-lazyfs did not mount within ${timeoutMs} ms: ${stderrTail().trim()}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString("utf8");
      if (out.split("\n").includes("ready")) {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      // stderr may still be in flight when exit fires; give it a tick to land
      setTimeout(() => reject(new Error(`cellar-lazyfs exited (code ${code}) before mounting: ${stderrTail().trim()}`)), 20);
    });
  });
}

async function stop(mountpoint: string, child: ChildProcess, exited: Promise<number | null>, server: FetchServer): Promise<void> {
  let unmountError: unknown;
  try {
    await run("fusermount3", ["-u", mountpoint]);
  } catch (err) {
    // busy, or already gone: let the daemon unmount itself on SIGTERM, then fall back to lazy
    unmountError = err;
    child.kill("SIGTERM");
  }
  const gone = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!gone) {
    child.kill("SIGKILL");
    await exited;
  }
  await server.close();
  if (unmountError && (await isMounted(mountpoint))) {
    await run("umount", ["-l", mountpoint]).catch(() => undefined);
  }
}

/** Whether mountpoint appears in /proc/mounts. */
export async function isMounted(mountpoint: string): Promise<boolean> {
  const { readFile, realpath } = await import("node:fs/promises");
  mountpoint = await realpath(mountpoint).catch(() => mountpoint);
  const mounts = await readFile("/proc/mounts", "utf8");
  // /proc/mounts escapes space, tab, newline and backslash as octal
  const escaped = mountpoint.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
  return mounts.split("\n").some((line) => line.split(" ")[1] === escaped);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
