// What a cell asks to run on, what a worker offers, and whether one serves the other. Stated
// once here: the web's device picker, the `%%gpu` magic, the gateway's placement and the
// Machines panel all read it.
import { z } from "zod";

/** A GPU a worker has: found by `nvidia-smi` on the host, or declared by the worker's labels
 * (a CPU machine standing in for a GPU class in tests and rehearsals). */
export const gpuInfoSchema = z.object({
  index: z.number().int().nonnegative(),
  /** As nvidia-smi names it, e.g. "NVIDIA H100 80GB HBM3". */
  model: z.string().min(1),
  memoryBytes: z.number().nonnegative(),
  driver: z.string().optional(),
  cuda: z.string().optional(),
  source: z.enum(["nvidia-smi", "label"]),
});
export type GpuInfo = z.infer<typeof gpuInfoSchema>;

/** How a kernel is isolated: gVisor alone (CPU), gVisor reaching the GPU through nvproxy, or the
 * worker's fallback OCI runtime with the devices passed through (weaker: the host kernel is shared). */
export const ISOLATIONS = ["gvisor", "gvisor-nvproxy", "crun-passthrough"] as const;
export type Isolation = (typeof ISOLATIONS)[number];

/** How an isolation is shown: "gVisor", "gVisor + nvproxy", "crun (devices passed through)". */
export function isolationText(isolation: Isolation): string {
  return isolation === "gvisor" ? "gVisor" : isolation === "gvisor-nvproxy" ? "gVisor + nvproxy" : "crun (devices passed through)";
}

export const workerResourcesSchema = z.object({
  cpus: z.number(),
  memoryBytes: z.number(),
  gpus: z.array(gpuInfoSchema),
  /** Set by configuration (CELLAR_WORKER_LABELS), e.g. {zone: "eu-1", gpu: "H100"}. */
  labels: z.record(z.string(), z.string()).default({}),
  /** How this worker can sandbox a GPU kernel: gVisor with nvproxy where runsc knows the host's
   * driver, else the fallback runtime with the devices passed through; "gvisor" for GPUs only
   * declared by labels (nothing is passed through); null: it has GPUs but no way to give them to
   * a sandbox. Absent: no GPUs (or an older worker). */
  gpuIsolation: z.enum(ISOLATIONS).nullable().optional(),
  /** Why, in a sentence ("driver 580.95.05 is outside runsc 20240729's nvproxy range …"). */
  gpuIsolationNote: z.string().optional(),
});
export type WorkerResources = z.output<typeof workerResourcesSchema>;

/** What a cell (or a notebook, as its default) asks to run on. `model` is matched against a
 * GPU's name without case ("H100" matches "NVIDIA H100 80GB HBM3"); no model: any GPU. */
export const deviceRequestSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("cpu") }),
  z.object({
    kind: z.literal("gpu"),
    model: z.string().min(1).max(64).optional(),
    count: z.number().int().min(1).max(16).default(1),
  }),
]);
export type DeviceRequest = z.output<typeof deviceRequestSchema>;

export const CPU: DeviceRequest = { kind: "cpu" };

/** Where the choice lives in a cell's (and a notebook's) nbformat metadata: `metadata.cellar.device`,
 * so it survives an .ipynb round trip and other tools leave it alone. */
export const DEVICE_METADATA_NAMESPACE = "cellar";

/** The device stored in a cell's or notebook's metadata, if any (an unreadable one counts as none). */
export function deviceInMetadata(metadata: Record<string, unknown> | undefined): DeviceRequest | undefined {
  const ns = metadata?.[DEVICE_METADATA_NAMESPACE];
  if (!ns || typeof ns !== "object") return undefined;
  const parsed = deviceRequestSchema.safeParse((ns as Record<string, unknown>).device);
  return parsed.success ? parsed.data : undefined;
}

/** `metadata` with the device set (or, with undefined, removed); other keys are kept. */
export function withDeviceInMetadata(
  metadata: Record<string, unknown> | undefined,
  device: DeviceRequest | undefined,
): Record<string, unknown> {
  const { [DEVICE_METADATA_NAMESPACE]: ns, ...rest } = metadata ?? {};
  const { device: _old, ...otherCellar } = ns && typeof ns === "object" ? (ns as Record<string, unknown>) : {};
  const cellar = device ? { ...otherCellar, device } : otherCellar;
  return Object.keys(cellar).length ? { ...rest, [DEVICE_METADATA_NAMESPACE]: cellar } : rest;
}

/** The device a cell runs on: its own choice, else the notebook's default, else CPU. */
export function deviceOfCell(
  cellMetadata: Record<string, unknown> | undefined,
  notebookMetadata: Record<string, unknown> | undefined,
): DeviceRequest {
  return deviceInMetadata(cellMetadata) ?? deviceInMetadata(notebookMetadata) ?? CPU;
}

export type DeviceParse = { ok: true; device: DeviceRequest } | { ok: false; error: string };

/** Reads what a user types for a device: "cpu", "gpu" / "any gpu", "H100", "2 x H100", "H100:2",
 * "any gpu:2". */
export function parseDevice(text: string): DeviceParse {
  const t = text.trim().replace(/\s+/g, " ");
  if (!t) return { ok: false, error: "name a device: cpu, gpu, or a GPU model such as H100" };
  if (/^cpu$/i.test(t)) return { ok: true, device: CPU };
  const m = /^(?:(\d+)\s*[x×*]\s*)?(.+?)(?::(\d+))?$/i.exec(t);
  const name = m?.[2]?.trim() ?? "";
  const count = Number(m?.[1] ?? m?.[3] ?? 1);
  if (!Number.isInteger(count) || count < 1 || count > 16) return { ok: false, error: `a GPU count is 1 to 16, not ${m?.[1] ?? m?.[3]}` };
  if (/^(any )?gpus?$/i.test(name)) return { ok: true, device: { kind: "gpu", count } };
  if (!/^[\w.\- ]{1,64}$/.test(name)) return { ok: false, error: `"${name}" is not a device name (cpu, gpu, or a GPU model such as H100)` };
  return { ok: true, device: { kind: "gpu", model: name, count } };
}

/** How a device is shown: "CPU", "any GPU", "H100", "2 × H100". */
export function formatDevice(device: DeviceRequest): string {
  if (device.kind === "cpu") return "CPU";
  const name = device.model ?? "any GPU";
  return device.count > 1 ? `${device.count} × ${name}` : name;
}

export function sameDevice(a: DeviceRequest, b: DeviceRequest): boolean {
  return formatDevice(a).toLowerCase() === formatDevice(b).toLowerCase();
}

/** A cell whose first line is `%%gpu [DEVICE]` or `%%cpu`: the device it asks for and the code to
 * run without that line. Not a magic: null. */
export function deviceMagic(source: string): { device: DeviceRequest; code: string } | { error: string } | null {
  const m = /^[ \t]*%%(gpu|cpu)\b([^\n]*)(?:\n|$)/.exec(source);
  if (!m) return null;
  const code = source.slice(m[0].length);
  const arg = m[2].trim();
  if (m[1] === "cpu") return arg ? { error: `%%cpu takes no argument (got "${arg}")` } : { device: CPU, code };
  const parsed = parseDevice(arg || "gpu");
  if (!parsed.ok) return { error: `%%gpu: ${parsed.error}` };
  if (parsed.device.kind === "cpu") return { device: CPU, code };
  return { device: parsed.device, code };
}

/** The GPU model a label declares: `gpu=H100` (with `gpus=N`, N of them, default 1). */
export function gpusFromLabels(labels: Record<string, string>): GpuInfo[] {
  const model = labels.gpu?.trim();
  if (!model) return [];
  const n = Math.max(1, Math.min(16, Number.parseInt(labels.gpus ?? "1", 10) || 1));
  const memoryBytes = Number(labels["gpu-memory-bytes"] ?? 0) || 0;
  return Array.from({ length: n }, (_, index) => ({ index, model, memoryBytes, source: "label" as const }));
}

/** A worker's class as people read it: "CPU", "H100", "2 × H100" (the model's short name). */
export function workerClassOf(resources: Pick<WorkerResources, "gpus">): string {
  if (resources.gpus.length === 0) return "CPU";
  const names = [...new Set(resources.gpus.map((g) => shortGpuName(g.model)))];
  const name = names.join(" + ");
  return resources.gpus.length > 1 && names.length === 1 ? `${resources.gpus.length} × ${name}` : name;
}

/** "NVIDIA H100 80GB HBM3" → "H100"; a name without the vendor's prefix is kept as it is. */
export function shortGpuName(model: string): string {
  const words = model.replace(/^NVIDIA\s+/i, "").split(/\s+/);
  return words[0] === "GeForce" || words[0] === "Tesla" || words[0] === "RTX" ? words.slice(0, 2).join(" ") : words[0];
}

function gpuMatches(gpu: GpuInfo, model: string | undefined): boolean {
  if (!model) return true;
  const want = model.toLowerCase().replace(/\s+/g, "");
  return gpu.model.toLowerCase().replace(/\s+/g, "").includes(want);
}

/** Whether a worker has what the device asks for at all (busy or not). Every worker runs CPU
 * kernels; placement puts them on GPU machines only when no other can take them. */
export function workerOffers(resources: Pick<WorkerResources, "gpus">, device: DeviceRequest): boolean {
  if (device.kind === "cpu") return true;
  return resources.gpus.filter((g) => gpuMatches(g, device.model)).length >= device.count;
}

/** The GPUs of a worker a device would take, given those already taken; undefined if not enough are free. */
export function freeGpusFor(
  resources: Pick<WorkerResources, "gpus">,
  device: DeviceRequest,
  taken: ReadonlySet<number>,
): number[] | undefined {
  if (device.kind === "cpu") return [];
  const free = resources.gpus.filter((g) => !taken.has(g.index) && gpuMatches(g, device.model)).map((g) => g.index);
  return free.length >= device.count ? free.slice(0, device.count) : undefined;
}

/** The error for a device no worker has: "no worker offers H100 (workers: 2 × CPU, 1 × A100)". */
export function noWorkerOffers(device: DeviceRequest, fleet: Array<Pick<WorkerResources, "gpus">>): string {
  const classes = new Map<string, number>();
  for (const w of fleet) classes.set(workerClassOf(w), (classes.get(workerClassOf(w)) ?? 0) + 1);
  const listed = [...classes].map(([cls, n]) => `${n} × ${cls}`).join(", ");
  return `no worker offers ${formatDevice(device)} (workers: ${listed || "none connected"})`;
}

/** A Python name the state move could not carry, and why (its type as `type(x).__qualname__`). */
export const skippedNameSchema = z.object({ name: z.string(), type: z.string(), reason: z.string() });
export type SkippedName = z.infer<typeof skippedNameSchema>;

/** Names one state move; it is a folder in the workspace (`.cellar/moves/<moveId>`), so nothing
 * that could leave it. */
export const moveIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a move id is 1-64 letters, digits, _ or -");

/** A file of a move's folder (`00001.buf`, `manifest.json`): the export writes no subfolders,
 * so a name with a slash or one that climbs is refused on either worker. */
export const moveFileNameSchema = z.string().regex(/^\w[\w.-]{0,254}$/, "a move file name is a plain file name");

/** A file of a move as the old worker lists it, for the gateway to carry to the new one. */
export const moveFileSchema = z.object({ name: moveFileNameSchema, size: z.number().int().nonnegative() });
export type MoveFile = z.infer<typeof moveFileSchema>;

/** The most one `move:read` or `move:write` carries (the gateway's socket takes 64 MiB messages). */
export const MOVE_PIECE_MAX_BYTES = 8 << 20;

const movePieceAt = { moveId: moveIdSchema, name: moveFileNameSchema, offset: z.number().int().nonnegative() };
/** The payloads of the gateway's "move:*" events, as the worker checks them. */
export const moveReadSchema = z.object({ ...movePieceAt, length: z.number().int().positive().max(MOVE_PIECE_MAX_BYTES) });
export const moveWriteSchema = z.object({
  ...movePieceAt,
  data: z.instanceof(Uint8Array).refine((d) => d.length <= MOVE_PIECE_MAX_BYTES, "a move piece is at most 8 MiB"),
});
export const moveDropSchema = z.object({ moveId: moveIdSchema });
/** A move server's base URL (WorkerAuth.moveUrl), and a move's token for it. */
export const moveUrlSchema = z.url({ protocol: /^https?$/ }).max(2048);
export const moveTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, "a move token is 16-128 letters, digits, _ or -");
export const moveFetchSchema = z.object({
  moveId: moveIdSchema,
  url: moveUrlSchema,
  token: moveTokenSchema,
  files: z.array(moveFileSchema).max(100_000),
});

/** What a kernel's export of its namespace wrote (worker → gateway). */
export const stateExportReportSchema = z.object({
  names: z.array(z.object({ name: z.string(), type: z.string(), bytes: z.number() })),
  skipped: z.array(skippedNameSchema),
  /** Modules bound to names (`np` → numpy), re-imported by name on the other side. */
  modules: z.array(z.object({ name: z.string(), module: z.string() })),
  bytes: z.number(),
  seconds: z.number(),
});
export type StateExportReport = z.infer<typeof stateExportReportSchema>;

/** What the importing kernel took in; `failed`: exported names that would not load there. */
export const stateImportReportSchema = z.object({
  names: z.array(z.string()),
  failed: z.array(skippedNameSchema),
  seconds: z.number(),
  /** Array bytes left over private mappings of the move's files rather than read into memory. */
  mapped_bytes: z.number().int().nonnegative().optional(),
  /** Why a file was read instead of mapped (the first such file). */
  unmapped: z.string().optional(),
});
export type StateImportReport = z.infer<typeof stateImportReportSchema>;

/** Where a cell ran, as an output of the cell (display_data under this MIME type, with a text/plain
 * line other tools show): "ran on H100 · worker gpu-1 · moved 14 names, 2.1 GB in 1.8 s". */
export const PLACEMENT_MIME = "application/vnd.cellar.placement+json";

export const placementSchema = z.object({
  device: z.string(),
  workerId: z.string(),
  workerClass: z.string(),
  isolation: z.enum(ISOLATIONS),
  moved: z.object({ from: z.string(), names: z.number(), bytes: z.number(), seconds: z.number() }).optional(),
  skipped: z.array(skippedNameSchema).default([]),
});
export type Placement = z.output<typeof placementSchema>;

/** 1536 → "1.5 KB": sizes as cells and panels print them. */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n / 1e3;
  let i = 0;
  while (v >= 1e3 && i < units.length - 1) {
    v /= 1e3;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** The placement's one line: "ran on H100 · worker gpu-1 · moved 14 names, 2.1 GB in 1.8 s". */
export function placementText(p: Placement): string {
  const parts = [`ran on ${p.device}`, `worker ${p.workerId}`];
  if (p.isolation !== "gvisor") parts.push(isolationText(p.isolation));
  if (p.moved) {
    const n = p.moved.names;
    parts.push(`moved ${n} ${n === 1 ? "name" : "names"}, ${formatBytes(p.moved.bytes)} in ${p.moved.seconds.toFixed(1)} s`);
  }
  return parts.join(" · ");
}

/** The warning listed in a moved cell's output for the names that stayed behind. */
export function skippedNamesText(skipped: SkippedName[], to: string): string {
  const lines = skipped.map((s) => `  ${s.name} (${s.type}): ${s.reason}`);
  return `Warning: ${skipped.length} ${skipped.length === 1 ? "name" : "names"} could not move to the ${to} kernel and ${skipped.length === 1 ? "is" : "are"} not defined there:\n${lines.join("\n")}\n`;
}
