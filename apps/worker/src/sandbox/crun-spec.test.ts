import { describe, expect, it } from "vitest";
import { buildOciConfig } from "./bundle";
import { hybridCgroups } from "./crun";
import { CRUN_ID_BASE, CRUN_ID_COUNT, crunIdMappings, forCrun, ociSeccomp, type ContainersSeccompProfile } from "./crun-spec";

// The shapes of golang-github-containers-common's seccomp.json, cut down.
const PROFILE: ContainersSeccompProfile = {
  defaultAction: "SCMP_ACT_ERRNO",
  defaultErrnoRet: 38,
  archMap: [
    { architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
    { architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"] },
  ],
  syscalls: [
    { names: ["read", "write"], action: "SCMP_ACT_ALLOW", args: [], includes: {}, excludes: {} },
    { names: ["arch_prctl"], action: "SCMP_ACT_ALLOW", includes: { arches: ["amd64", "x32"] } },
    { names: ["breakpoint"], action: "SCMP_ACT_ALLOW", includes: { arches: ["arm", "arm64"] } },
    { names: ["bpf"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_ADMIN"] } },
    { names: ["bpf"], action: "SCMP_ACT_ERRNO", errnoRet: 1, excludes: { caps: ["CAP_SYS_ADMIN"] } },
    { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 8, valueTwo: 0, op: "SCMP_CMP_EQ" }] },
  ],
};

describe("crun's seccomp filter, from the containers' profile", () => {
  it("keeps the rules that hold for a process without capabilities on this architecture", () => {
    const s = ociSeccomp(PROFILE, [], "x64");
    expect(s).toEqual({
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 38,
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      syscalls: [
        { names: ["read", "write"], action: "SCMP_ACT_ALLOW" },
        { names: ["arch_prctl"], action: "SCMP_ACT_ALLOW" },
        // Without CAP_SYS_ADMIN, bpf is refused (EPERM), not allowed.
        { names: ["bpf"], action: "SCMP_ACT_ERRNO", errnoRet: 1 },
        { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 8, valueTwo: 0, op: "SCMP_CMP_EQ" }] },
      ],
    });
  });

  it("follows the architecture and the capabilities given", () => {
    const arm = ociSeccomp(PROFILE, [], "arm64");
    expect(arm.architectures).toEqual(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
    expect((arm.syscalls as Array<{ names: string[] }>).map((r) => r.names[0])).toEqual(["read", "breakpoint", "bpf", "personality"]);
    const admin = ociSeccomp(PROFILE, ["CAP_SYS_ADMIN"], "x64").syscalls as Array<{ names: string[]; action: string }>;
    expect(admin.filter((r) => r.names[0] === "bpf")).toEqual([{ names: ["bpf"], action: "SCMP_ACT_ALLOW" }]);
    expect(() => ociSeccomp(PROFILE, [], "mips")).toThrow(/mips/);
  });
});

describe("a bundle for crun", () => {
  const base = () =>
    buildOciConfig({ sessionId: "s1", imageRootfs: "/img", workspaceDir: "/ws", limits: { memoryBytes: 1 << 30, pids: 64 } });

  it("adds a user namespace whose root is nobody on the host, keeping the sandbox user's id", () => {
    expect(crunIdMappings(1000)).toEqual([
      { containerID: 0, hostID: CRUN_ID_BASE, size: 1000 },
      { containerID: 1000, hostID: 1000, size: 1 },
      { containerID: 1001, hostID: CRUN_ID_BASE + 1001, size: CRUN_ID_COUNT - 1001 },
    ]);
    expect(() => crunIdMappings(0)).toThrow();
    const c = forCrun(base(), { uid: 1000, gid: 1000 }, PROFILE, "x64") as { linux: Record<string, unknown> };
    const types = (c.linux.namespaces as Array<{ type: string }>).map((n) => n.type);
    expect(types).toEqual(["pid", "ipc", "uts", "mount", "network", "user", "cgroup"]);
    expect(c.linux.uidMappings).toEqual(crunIdMappings(1000));
    expect(c.linux.gidMappings).toEqual(crunIdMappings(1000));
    expect((c.linux.seccomp as { defaultAction: string }).defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(c.linux.maskedPaths).toContain("/proc/kcore");
  });

  it("drops every capability and forbids new privileges, whatever the bundle asked", () => {
    const asked = base() as { process: Record<string, unknown> };
    asked.process.capabilities = {
      bounding: ["CAP_SYS_ADMIN"],
      effective: ["CAP_SYS_ADMIN"],
      inheritable: [],
      permitted: ["CAP_SYS_ADMIN"],
      ambient: [],
    };
    asked.process.noNewPrivileges = false;
    const c = forCrun(asked, { uid: 1000, gid: 1000 }, PROFILE, "x64") as { process: Record<string, unknown> };
    expect(c.process.capabilities).toEqual({ bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] });
    expect(c.process.noNewPrivileges).toBe(true);
    // The input is left as it was.
    expect((asked.process.capabilities as { bounding: string[] }).bounding).toEqual(["CAP_SYS_ADMIN"]);
  });
});

describe("hybrid cgroups, which crun refuses", () => {
  it("are told by a v2 hierarchy mounted beside the v1 ones", () => {
    const v1 = "cgroup /sys/fs/cgroup/memory cgroup rw 0 0\n";
    expect(hybridCgroups(() => `${v1}cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n`)).toBe(true);
    expect(hybridCgroups(() => v1)).toBe(false);
    expect(hybridCgroups(() => "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n")).toBe(false);
  });
});
