import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { workerClassOf } from "@cellar/protocol";
import { detectResources, type HostProbes } from "./resources";

const fixture = (name: string) => readFileSync(new URL(`./gpus/fixtures/${name}`, import.meta.url), "utf8");

/** A host with these device nodes, where each program answers as given (absent: not installed). */
function host(nodes: string[], programs: Record<string, (args: string[]) => string>): HostProbes {
  return {
    gpuDeviceNodes: () => nodes,
    exec: async (file, args) => {
      const program = programs[file];
      if (!program) throw new Error(`spawn ${file} ENOENT`);
      return program(args);
    },
    cpus: () => 16,
    memoryBytes: () => 128 * 2 ** 30,
  };
}

const h200Host = (crun: boolean) =>
  host(["nvidia0"], {
    "nvidia-smi": (args) => fixture(args.length ? "h200-driver-580.query.txt" : "h200-driver-580.smi.txt"),
    runsc: () => "runsc version 0.0~20240729.0\nspec: 1.1.0-rc.1\n",
    ...(crun ? { crun: () => "crun version 1.8.1\ncommit: abc\n" } : {}),
  });

describe("detectResources", () => {
  it("reports the H200 machine: its GPU, the labels, and crun since runsc does not know driver 580", async () => {
    const warnings: string[] = [];
    const r = await detectResources({ zone: "eu-1" }, h200Host(true), (w) => warnings.push(w));
    expect(r).toMatchObject({
      cpus: 16,
      gpus: [{ model: "NVIDIA H200", driver: "580.95.05", cuda: "13.0", source: "nvidia-smi" }],
      labels: { zone: "eu-1" },
      gpuIsolation: "crun-passthrough",
    });
    expect(workerClassOf(r)).toBe("H200");
    expect(warnings).toEqual([]);
  });

  it("uses the labels' GPUs only where the machine has none, and says when it has its own", async () => {
    const cpu = await detectResources({ gpu: "H100", gpus: "2" }, host([], {}));
    expect(workerClassOf(cpu)).toBe("2 × H100");
    expect(cpu.gpus.every((g) => g.source === "label")).toBe(true);
    expect(cpu.gpuIsolation).toBe("gvisor");

    const warnings: string[] = [];
    const real = await detectResources({ gpu: "H100", gpus: "2" }, h200Host(false), (w) => warnings.push(w));
    expect(workerClassOf(real)).toBe("H200");
    expect(real.gpuIsolation).toBeNull();
    expect(warnings).toEqual(["worker: CELLAR_WORKER_LABELS declares gpu=H100, but this machine has GPUs of its own: those are reported"]);
  });

  it("a CPU machine without labels has no GPUs and no GPU isolation to report", async () => {
    const r = await detectResources({}, host([], {}));
    expect(r).toEqual({ cpus: 16, memoryBytes: 128 * 2 ** 30, gpus: [], labels: {} });
  });

  it("keeps a GPU nvidia-smi cannot describe, and logs why", async () => {
    const warnings: string[] = [];
    const r = await detectResources({}, host(["nvidia0"], { crun: () => "crun version 1.8.1" }), (w) => warnings.push(w));
    expect(workerClassOf(r)).toBe("GPU");
    expect(warnings[0]).toMatch(
      /^worker: 1 GPU device node\(s\) \(\/dev\/nvidia0\) but nvidia-smi did not run \(spawn nvidia-smi ENOENT\)/,
    );
    expect(r.gpuIsolation).toBe("crun-passthrough");
  });
});
