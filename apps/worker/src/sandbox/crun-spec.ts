// What a kernel's OCI bundle needs to run under crun, the fallback runtime for GPUs that runsc's
// nvproxy does not know: crun runs the kernel on the host's own Linux kernel, so the walls gVisor
// gave are put back with the kernel's tools — a user namespace (root inside is an unprivileged
// uid range outside), the seccomp profile Podman and Buildah ship (golang-github-containers-common),
// no capabilities and no new privileges. The rest of the bundle (mounts, rlimits, devices) is the
// one runsc gets.
import { readFileSync } from "node:fs";

/** Where the ids inside a crun sandbox start on the host: far above every account there, so root
 * inside (and every id but the sandbox user's) is nobody outside. */
export const CRUN_ID_BASE = 200_000;
export const CRUN_ID_COUNT = 65_536;

/** Inside → host ids: the sandbox user stays itself, as under runsc, so the workspace's files have
 * one owner whichever runtime wrote them; every other id, root first, lands in the high range. */
export function crunIdMappings(sandboxId: number) {
  // Root inside must never be the host's root.
  if (!(sandboxId >= 1 && sandboxId < CRUN_ID_COUNT - 1)) throw new Error(`the sandbox user's id must be 1–${CRUN_ID_COUNT - 2}`);
  return [
    { containerID: 0, hostID: CRUN_ID_BASE, size: sandboxId },
    { containerID: sandboxId, hostID: sandboxId, size: 1 },
    { containerID: sandboxId + 1, hostID: CRUN_ID_BASE + sandboxId + 1, size: CRUN_ID_COUNT - sandboxId - 1 },
  ];
}

/** Where Debian's golang-github-containers-common puts the containers' default seccomp profile
 * (installed by scripts/install-system.sh); CELLAR_SECCOMP_PROFILE names another. */
export const DEFAULT_SECCOMP_PROFILE = "/usr/share/containers/seccomp.json";

interface ProfileRule {
  names: string[];
  action: string;
  args?: unknown[] | null;
  errnoRet?: number;
  includes?: { caps?: string[]; arches?: string[] };
  excludes?: { caps?: string[]; arches?: string[] };
}

/** The containers/Docker profile format: OCI's seccomp plus per-rule conditions on the process's
 * capabilities and the machine's architecture. */
export interface ContainersSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  archMap?: Array<{ architecture: string; subArchitectures?: string[] }>;
  syscalls: ProfileRule[];
}

/** Node's process.arch → the names the profile uses, and libseccomp's. */
const ARCHES: Record<string, { profile: string; seccomp: string }> = {
  x64: { profile: "amd64", seccomp: "SCMP_ARCH_X86_64" },
  arm64: { profile: "arm64", seccomp: "SCMP_ARCH_AARCH64" },
};

/**
 * The OCI `linux.seccomp` for a process with `caps` on `arch`, as Podman derives it from the same
 * profile: a rule counts where its `includes` hold and its `excludes` do not.
 */
export function ociSeccomp(profile: ContainersSeccompProfile, caps: string[], arch: string = process.arch): Record<string, unknown> {
  const names = ARCHES[arch];
  if (!names) throw new Error(`no seccomp architecture is known for ${arch}`);
  const has = (c: string) => caps.includes(c);
  const applies = (r: ProfileRule) =>
    (r.includes?.caps ?? []).every(has) &&
    (!r.includes?.arches?.length || r.includes.arches.includes(names.profile)) &&
    !(r.excludes?.caps ?? []).some(has) &&
    !(r.excludes?.arches ?? []).includes(names.profile);
  const main = profile.archMap?.find((a) => a.architecture === names.seccomp);
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    architectures: [names.seccomp, ...(main?.subArchitectures ?? [])],
    syscalls: profile.syscalls.filter(applies).map((r) => ({
      names: r.names,
      action: r.action,
      ...(r.args?.length ? { args: r.args } : {}),
      ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
    })),
  };
}

let loaded: { path: string; profile: ContainersSeccompProfile } | null = null;
/** The profile at `file`, read once. A missing profile is an error: a crun kernel never runs
 * without seccomp. */
export function loadSeccompProfile(file = process.env.CELLAR_SECCOMP_PROFILE || DEFAULT_SECCOMP_PROFILE): ContainersSeccompProfile {
  if (loaded?.path === file) return loaded.profile;
  let profile: ContainersSeccompProfile;
  try {
    profile = JSON.parse(readFileSync(file, "utf8")) as ContainersSeccompProfile;
  } catch (err) {
    throw new Error(
      `the seccomp profile for crun kernels could not be read from ${file} (${(err as Error).message}); scripts/install-system.sh installs it`,
    );
  }
  if (!profile.defaultAction || !Array.isArray(profile.syscalls)) throw new Error(`${file} is not a seccomp profile`);
  loaded = { path: file, profile };
  return profile;
}

type Config = Record<string, unknown> & {
  process: Record<string, unknown> & { capabilities?: Record<string, string[]> };
  linux: Record<string, unknown> & { namespaces: Array<{ type: string }> };
};

/** `config` (a runsc bundle) as crun runs it: in a user namespace of its own, under seccomp, with
 * no capabilities whatever the bundle asked for (snapshot boots never use crun). */
export function forCrun(
  config: Record<string, unknown>,
  ids: { uid: number; gid: number },
  profile: ContainersSeccompProfile,
  arch?: string,
): Record<string, unknown> {
  const c = structuredClone(config) as Config;
  const none = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
  c.process = { ...c.process, capabilities: none, noNewPrivileges: true };
  c.linux = {
    ...c.linux,
    namespaces: [...c.linux.namespaces.filter((n) => n.type !== "user"), { type: "user" }, { type: "cgroup" }],
    uidMappings: crunIdMappings(ids.uid),
    gidMappings: crunIdMappings(ids.gid),
    seccomp: ociSeccomp(profile, [], arch),
    // What runc and crun mask by default in Docker and Podman: host facts a tenant has no need for.
    maskedPaths: [
      "/proc/acpi",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/proc/sched_debug",
      "/proc/scsi",
      "/sys/firmware",
    ],
    readonlyPaths: ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
  };
  return c;
}
