// The GPUs of this machine as nvidia-smi describes them. The parsers are pure (tested against
// captured output); `readNvidiaGpus` runs the two commands and never throws: a GPU whose device
// node is there but that nvidia-smi cannot describe is listed as of unknown model, with the reason,
// rather than dropped (the machine still has it, and placement must not pretend otherwise).
import type { GpuInfo } from "@cellar/protocol";

/** The columns asked of `nvidia-smi --query-gpu`, in this order. */
export const GPU_QUERY = ["index", "name", "memory.total", "driver_version"] as const;
export const GPU_QUERY_ARGS = [`--query-gpu=${GPU_QUERY.join(",")}`, "--format=csv,noheader,nounits"];

/** What a GPU is called when nvidia-smi could not say: its short name (shortGpuName) is "GPU". */
export const UNKNOWN_GPU_MODEL = "NVIDIA GPU (model unknown)";

const MIB = 2 ** 20;

/** Runs a program and resolves with its stdout; rejects with a message on failure or timeout. */
export type Exec = (file: string, args: string[]) => Promise<string>;

/** Rows of `nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader,nounits`
 * ("0, NVIDIA H200, 143771, 580.95.05"; memory in MiB). Lines it cannot read are returned as problems. */
export function parseGpuQuery(csv: string): { gpus: GpuInfo[]; problems: string[] } {
  const gpus: GpuInfo[] = [];
  const problems: string[] = [];
  for (const line of csv.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const fields = line.split(",").map((f) => f.trim());
    if (fields.length < GPU_QUERY.length) {
      problems.push(`nvidia-smi printed a line without ${GPU_QUERY.length} fields: "${line.trim()}"`);
      continue;
    }
    // A name with a comma in it would split; the index is first and the last two are fixed.
    const index = Number(fields[0]);
    const driver = fields[fields.length - 1]!;
    const memory = Number(fields[fields.length - 2]);
    const name = fields.slice(1, -2).join(", ");
    if (!Number.isInteger(index) || index < 0) {
      problems.push(`nvidia-smi printed a GPU index that is not a number: "${line.trim()}"`);
      continue;
    }
    gpus.push({
      index,
      model: known(name) ?? UNKNOWN_GPU_MODEL,
      // "[N/A]" on some virtual GPUs: unknown, not zero-sized, but the schema has no "unknown".
      memoryBytes: Number.isFinite(memory) && memory >= 0 ? memory * MIB : 0,
      ...(known(driver) ? { driver } : {}),
      source: "nvidia-smi",
    });
  }
  return { gpus, problems };
}

/** The CUDA version in `nvidia-smi`'s header ("CUDA Version: 13.0") or `nvidia-smi --version`
 * ("CUDA Version        : 13.0"). */
export function parseCudaVersion(text: string): string | undefined {
  return /CUDA Version\s*:\s*(\d+(?:\.\d+)*)/i.exec(text)?.[1];
}

/** nvidia-smi's "[N/A]", "[Not Supported]" and empty fields are not values. */
function known(field: string): string | undefined {
  return field && !/^\[.*\]$/.test(field) && field !== "N/A" ? field : undefined;
}

/** This machine's NVIDIA GPUs. `deviceNodes`: the /dev/nvidiaN names present (none: no GPUs, and
 * nvidia-smi is not run). Never throws: what went wrong is in `problems`. */
export async function readNvidiaGpus(deviceNodes: string[], exec: Exec): Promise<{ gpus: GpuInfo[]; problems: string[] }> {
  if (deviceNodes.length === 0) return { gpus: [], problems: [] };
  const unknown = (reason: string) => ({
    gpus: deviceNodes.map((_, index): GpuInfo => ({ index, model: UNKNOWN_GPU_MODEL, memoryBytes: 0, source: "nvidia-smi" })),
    problems: [
      `${deviceNodes.length} GPU device node(s) (${deviceNodes.map((n) => `/dev/${n}`).join(", ")}) but ${reason}: listed as of unknown model`,
    ],
  });
  let csv: string;
  try {
    csv = await exec("nvidia-smi", GPU_QUERY_ARGS);
  } catch (error) {
    return unknown(`nvidia-smi did not run (${(error as Error).message})`);
  }
  const parsed = parseGpuQuery(csv);
  if (parsed.gpus.length === 0)
    return unknown(`nvidia-smi listed no GPU${parsed.problems.length ? ` (${parsed.problems.join("; ")})` : ""}`);
  let cuda: string | undefined;
  try {
    cuda = parseCudaVersion(await exec("nvidia-smi", []));
    if (!cuda) parsed.problems.push("nvidia-smi's header names no CUDA version");
  } catch (error) {
    parsed.problems.push(`nvidia-smi's header (the CUDA version) could not be read: ${(error as Error).message}`);
  }
  return { gpus: cuda ? parsed.gpus.map((g) => ({ ...g, cuda })) : parsed.gpus, problems: parsed.problems };
}
