// The OCI bundle (config.json) that runsc boots for one kernel session. Everything the sandbox can
// see is named here: the image root (read-only), the bridge code, a per-session workspace, and
// scratch tmpfs mounts.
import { chmod, chown, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { forCrun, loadSeccompProfile } from "./crun-spec";
import { type GpuSandbox, withGpu } from "./gpu-spec";

/** Where the kernel bridge lives in the repo; bind-mounted so bridge changes need no image rebuild. */
export const DEFAULT_BRIDGE_DIR = fileURLToPath(new URL("../../kernel-bridge", import.meta.url));
export const BRIDGE_MOUNT = "/opt/cellar/bridge";
export const WORKSPACE_MOUNT = "/workspace";
export const SANDBOX_HOME = "/home/cellar";
/** The image's non-root user (scripts/build-base-image.sh creates it). */
export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;

export interface SandboxLimits {
  /** Address-space limit of the kernel process (RLIMIT_AS). */
  memoryBytes: number;
  /** Process/thread limit (RLIMIT_NPROC). */
  pids: number;
}

export interface BundleOptions {
  sessionId: string;
  imageRootfs: string;
  workspaceDir: string;
  bridgeDir?: string;
  limits: SandboxLimits;
  /**
   * A boot that will be checkpointed as a warm snapshot. The bridge then starts as root with
   * just the capabilities it needs to take on each restored session's hostname and drop to the
   * sandbox user (a restore keeps the checkpointed UTS namespace, and only a privileged process
   * inside can rename it). No user code runs before that drop.
   */
  snapshotBoot?: boolean;
  /** A GPU kernel: its devices, driver libraries and isolation (gpu-spec.ts). */
  gpu?: GpuSandbox;
  /** Which runtime boots the bundle: crun's gets the walls gVisor would have given (crun-spec.ts). */
  runtime?: SandboxRuntime;
}

export type SandboxRuntime = "runsc" | "crun";

/** What the snapshot boot's bridge may do until a restore hands it its session. */
const SNAPSHOT_BOOT_CAPS = ["CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_FOWNER", "CAP_DAC_OVERRIDE"];

/** runsc container ids allow [\w+-.]; session ids are ours, but never trust a path component. */
export function containerIdFor(sessionId: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$/.test(sessionId)) {
    throw new Error(`invalid session id for a sandbox: ${JSON.stringify(sessionId)}`);
  }
  return `cellar-${sessionId}`;
}

export function hostnameFor(sessionId: string): string {
  return `cellar-${sessionId.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`.slice(0, 63).replace(/-+$/, "");
}

export function buildOciConfig(opts: BundleOptions): Record<string, unknown> {
  const { memoryBytes, pids } = opts.limits;
  if (!(memoryBytes > 0) || !(pids > 0)) throw new Error("sandbox limits must be positive");
  const caps = opts.snapshotBoot ? SNAPSHOT_BOOT_CAPS : [];
  const tmpfs = (destination: string, options: string[]) => ({ destination, type: "tmpfs", source: "tmpfs", options });
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: opts.snapshotBoot ? { uid: 0, gid: 0 } : { uid: SANDBOX_UID, gid: SANDBOX_GID },
      args: ["python3", `${BRIDGE_MOUNT}/cellar_kernel_bridge.py`],
      env: [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        `HOME=${SANDBOX_HOME}`,
        "USER=cellar",
        "LANG=C.UTF-8",
        "PYTHONUNBUFFERED=1",
        // plotly picks its renderer when plotly.io is first imported; in a kernel it would take
        // "plotly_mimetype+notebook", whose notebook half is a 3.5 MB inline plotly.js. The page
        // renders application/vnd.plotly.v1+json itself (in a sandboxed frame), so that alone.
        "PLOTLY_RENDERER=plotly_mimetype",
        ...(opts.snapshotBoot ? ["CELLAR_SNAPSHOT_BOOT=1"] : []),
        // MPLBACKEND stays unset here: the bridge selects the inline backend itself.
      ],
      cwd: WORKSPACE_MOUNT,
      // cgroups are ignored on these hosts (--ignore-cgroups), so per-process rlimits are the
      // limits that hold; gVisor enforces them in its own kernel.
      rlimits: [
        { type: "RLIMIT_AS", hard: memoryBytes, soft: memoryBytes },
        { type: "RLIMIT_NPROC", hard: pids, soft: pids },
        { type: "RLIMIT_NOFILE", hard: 4096, soft: 4096 },
        { type: "RLIMIT_CORE", hard: 0, soft: 0 },
      ],
      noNewPrivileges: true,
      capabilities: { bounding: caps, effective: caps, inheritable: [], permitted: caps, ambient: [] },
    },
    root: { path: opts.imageRootfs, readonly: true },
    hostname: hostnameFor(opts.sessionId),
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      tmpfs("/dev", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
      tmpfs("/dev/shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      tmpfs("/tmp", ["nosuid", "nodev", "mode=1777"]),
      tmpfs(SANDBOX_HOME, ["nosuid", "nodev", "mode=755", `uid=${SANDBOX_UID}`, `gid=${SANDBOX_GID}`]),
      { destination: BRIDGE_MOUNT, type: "bind", source: opts.bridgeDir ?? DEFAULT_BRIDGE_DIR, options: ["rbind", "ro"] },
      { destination: WORKSPACE_MOUNT, type: "bind", source: opts.workspaceDir, options: ["rbind", "rw"] },
    ],
    linux: {
      namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "network" }],
    },
  };
}

/** Writes `<bundleDir>/config.json` and prepares the workspace so the sandbox user can write it. */
export async function writeBundle(bundleDir: string, opts: BundleOptions): Promise<string> {
  const base = opts.gpu ? withGpu(buildOciConfig(opts), opts.gpu) : buildOciConfig(opts);
  if (opts.runtime === "crun" && opts.snapshotBoot) throw new Error("crun sandboxes are never checkpointed: no snapshot boot");
  const config = opts.runtime === "crun" ? forCrun(base, { uid: SANDBOX_UID, gid: SANDBOX_GID }, loadSeccompProfile()) : base;
  await mkdir(bundleDir, { recursive: true, mode: 0o700 });
  await mkdir(opts.workspaceDir, { recursive: true });
  // Without a user namespace (runsc), or with crun's that maps it to itself, uid 1000 inside is
  // uid 1000 on the host's files.
  await chown(opts.workspaceDir, SANDBOX_UID, SANDBOX_GID);
  await chmod(opts.workspaceDir, 0o755);
  const file = path.join(bundleDir, "config.json");
  await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}
