// Which device a code cell runs on, and why, as the page shows it: a `%%gpu …` / `%%cpu` first
// line (the gateway honours it before anything else), else the cell's own choice in its metadata,
// else the notebook's default, else CPU.
import {
  CPU,
  deviceInMetadata,
  deviceMagic,
  formatDevice,
  type DeviceRequest,
  isolationText,
  type KernelPlacement,
} from "@cellar/protocol";

export type DeviceSource = "magic" | "cell" | "notebook" | "none";

export interface CellDevice {
  device: DeviceRequest;
  from: DeviceSource;
  /** A `%%gpu` line that does not read: what is wrong with it. */
  error?: string;
}

export function cellDevice(source: string, metadata: Record<string, unknown>, notebookDevice: DeviceRequest | undefined): CellDevice {
  const magic = deviceMagic(source);
  if (magic && "device" in magic) return { device: magic.device, from: "magic" };
  const own = deviceInMetadata(metadata);
  const chosen: CellDevice = own
    ? { device: own, from: "cell" }
    : notebookDevice
      ? { device: notebookDevice, from: "notebook" }
      : { device: CPU, from: "none" };
  return magic && "error" in magic ? { ...chosen, error: magic.error } : chosen;
}

/** The badge a cell's gutter shows, or null for a plain CPU cell: "H100", "GPU", "2 × H100", and
 * "CPU" for a cell that stays on CPU while the notebook's default is a GPU. */
export function deviceBadge(cell: CellDevice, notebookDevice: DeviceRequest | undefined): string | null {
  if (cell.error) return "%%gpu?";
  if (cell.device.kind === "cpu") return notebookDevice?.kind === "gpu" ? "CPU" : null;
  return cell.device.model ? formatDevice(cell.device) : cell.device.count > 1 ? `${cell.device.count} × GPU` : "GPU";
}

/** Where the kernel is, for the status area: "H100 · gpu-1 · gVisor + nvproxy", "CPU · w1". */
export function placementLabel(p: KernelPlacement): string {
  const device = p.device.kind === "cpu" ? "CPU" : p.device.model ? formatDevice(p.device) : p.workerClass;
  return [device, p.workerId, ...(p.isolation === "gvisor" ? [] : [isolationText(p.isolation)])].join(" · ");
}

/** "Waiting for H100 — 2nd in line". */
export function queuedText(device: DeviceRequest, position: number): string {
  return `Waiting for ${formatDevice(device)} — ${ordinal(position)} in line`;
}

const ORDINAL_SUFFIX: Record<Intl.LDMLPluralRule, string> = { one: "st", two: "nd", few: "rd", other: "th", zero: "th", many: "th" };
const ordinals = new Intl.PluralRules("en", { type: "ordinal" });

function ordinal(n: number): string {
  return `${n}${ORDINAL_SUFFIX[ordinals.select(n)]}`;
}
