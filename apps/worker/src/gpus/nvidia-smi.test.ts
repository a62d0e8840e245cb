import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { workerClassOf } from "@cellar/protocol";
import { parseCudaVersion, parseGpuQuery, readNvidiaGpus, UNKNOWN_GPU_MODEL, type Exec } from "./nvidia-smi";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const MIB = 2 ** 20;

/** nvidia-smi as a machine with these captured outputs answers it. */
const smiOf =
  (query: string, header: string): Exec =>
  async (file, args) => {
    expect(file).toBe("nvidia-smi");
    return args.length ? query : header;
  };

describe("parseGpuQuery", () => {
  it("reads an H200 on driver 580", () => {
    expect(parseGpuQuery(fixture("h200-driver-580.query.txt"))).toEqual({
      gpus: [{ index: 0, model: "NVIDIA H200", memoryBytes: 143771 * MIB, driver: "580.95.05", source: "nvidia-smi" }],
      problems: [],
    });
  });

  it("reads two H100s, and fields nvidia-smi cannot fill are left out rather than made up", () => {
    const { gpus } = parseGpuQuery(fixture("2x-h100-driver-550.query.txt"));
    expect(gpus.map((g) => [g.index, g.model, g.memoryBytes / MIB])).toEqual([
      [0, "NVIDIA H100 80GB HBM3", 81559],
      [1, "NVIDIA H100 80GB HBM3", 81559],
    ]);
    expect(workerClassOf({ gpus })).toBe("2 × H100");
    expect(parseGpuQuery("0, [N/A], [N/A], [N/A]\n").gpus).toEqual([
      { index: 0, model: UNKNOWN_GPU_MODEL, memoryBytes: 0, source: "nvidia-smi" },
    ]);
  });

  it("names the lines it cannot read", () => {
    expect(parseGpuQuery("Failed to initialize NVML: Driver/library version mismatch\n")).toEqual({
      gpus: [],
      problems: ['nvidia-smi printed a line without 4 fields: "Failed to initialize NVML: Driver/library version mismatch"'],
    });
  });
});

describe("parseCudaVersion", () => {
  it("reads the header of nvidia-smi and of nvidia-smi --version", () => {
    expect(parseCudaVersion(fixture("h200-driver-580.smi.txt"))).toBe("13.0");
    expect(parseCudaVersion(fixture("2x-h100-driver-550.smi.txt"))).toBe("12.4");
    expect(parseCudaVersion("NVIDIA-SMI version  : 580.95.05\nCUDA Version        : 13.0\n")).toBe("13.0");
    expect(parseCudaVersion("no header")).toBeUndefined();
  });
});

describe("readNvidiaGpus", () => {
  it("runs nothing on a machine without GPU device nodes", async () => {
    expect(await readNvidiaGpus([], () => Promise.reject(new Error("must not run")))).toEqual({ gpus: [], problems: [] });
  });

  it("gives each GPU its model, memory, driver and CUDA version", async () => {
    const { gpus, problems } = await readNvidiaGpus(
      ["nvidia0"],
      smiOf(fixture("h200-driver-580.query.txt"), fixture("h200-driver-580.smi.txt")),
    );
    expect(problems).toEqual([]);
    expect(gpus).toEqual([
      { index: 0, model: "NVIDIA H200", memoryBytes: 143771 * MIB, driver: "580.95.05", cuda: "13.0", source: "nvidia-smi" },
    ]);
  });

  it("lists the device nodes as GPUs of unknown model, with the reason, when nvidia-smi is missing or fails", async () => {
    const missing = await readNvidiaGpus(["nvidia0", "nvidia1"], () => Promise.reject(new Error("spawn nvidia-smi ENOENT")));
    expect(missing.gpus).toEqual([
      { index: 0, model: UNKNOWN_GPU_MODEL, memoryBytes: 0, source: "nvidia-smi" },
      { index: 1, model: UNKNOWN_GPU_MODEL, memoryBytes: 0, source: "nvidia-smi" },
    ]);
    expect(missing.problems).toEqual([
      "2 GPU device node(s) (/dev/nvidia0, /dev/nvidia1) but nvidia-smi did not run (spawn nvidia-smi ENOENT): listed as of unknown model",
    ]);
    expect(workerClassOf(missing)).toBe("2 × GPU");

    const mismatch = await readNvidiaGpus(["nvidia0"], async () => "Failed to initialize NVML: Driver/library version mismatch\n");
    expect(mismatch.gpus).toHaveLength(1);
    expect(mismatch.problems[0]).toContain("nvidia-smi listed no GPU (nvidia-smi printed a line without 4 fields");
  });

  it("keeps the GPUs when only the header with the CUDA version cannot be read", async () => {
    const query = fixture("h200-driver-580.query.txt");
    const { gpus, problems } = await readNvidiaGpus(["nvidia0"], async (_f, args) => {
      if (args.length) return query;
      throw new Error("timed out");
    });
    expect(gpus).toMatchObject([{ model: "NVIDIA H200", driver: "580.95.05" }]);
    expect(gpus[0]!.cuda).toBeUndefined();
    expect(problems).toEqual(["nvidia-smi's header (the CUDA version) could not be read: timed out"]);
  });
});
