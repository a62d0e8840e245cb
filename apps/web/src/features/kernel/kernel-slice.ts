// The kernel's status as the gateway announces it (kernel:status, notebook:open's answer), moved
// between busy and idle by the kernel's own iopub status too (see kernel-socket.ts for why), or the
// page's own word when it cannot reach the gateway (connecting, disconnected); and how many
// workers are connected; where the kernel runs, and the cells waiting for a busy device. Set only
// by the kernel connection (kernel-socket.ts).
import type { StateCreator } from "zustand/vanilla";
import {
  notebookPackagesOf,
  type DeviceRequest,
  type KernelPlacement,
  type KernelStatus,
  type Notebook,
  type NotebookPackages,
  type NotebookRole,
} from "@cellar/protocol";
import { withoutKey } from "../../shared/records";
import type { NotebookState } from "../notebook/notebook-store";

/** `connecting`: the page has not heard from the gateway yet. */
export type KernelDisplayStatus = KernelStatus | "connecting";

export interface KernelSlice {
  kernel: { status: KernelDisplayStatus; reason?: string };
  workers: number | null;
  /** The user's role on the notebook, as the gateway answered it (getNotebook, then each open of
   * the socket); what the page offers follows it, the gateway checks it. */
  role: NotebookRole;
  /** The gateway took the user's access away: nothing more can be done here. */
  accessRemoved: boolean;
  /** Where the kernel runs (device, worker, isolation); null until the gateway has placed it. */
  placement: KernelPlacement | null;
  /** Cells waiting for a device that exists but is busy: what they wait for and their place in line (1: next). */
  deviceQueue: Record<string, { device: DeviceRequest; position: number }>;
  /** The image the notebook chose and the pip packages `%pip install` layered over it. */
  kernelImage: KernelImageChoice;

  setKernelImage(image: string, packages: NotebookPackages | null): void;
  setKernelStatus(status: KernelDisplayStatus, reason?: string): void;
  setWorkers(connected: number): void;
  /** null: the access was removed. */
  setRole(role: NotebookRole | null): void;
  setPlacement(placement: KernelPlacement | null): void;
  /** `position` 0: the cell left the line. */
  setDeviceQueue(cellId: string, device: DeviceRequest, position: number): void;
  clearDeviceQueue(): void;
}

export interface KernelImageChoice {
  image: string;
  pip: string[];
}

const imageChoice = (image: string | undefined, packages: NotebookPackages | null): KernelImageChoice => ({
  image: packages?.from ?? image ?? "base",
  pip: packages?.pip ?? [],
});

/** `notebook.role`: as getNotebook answered (absent in older test doubles: the owner). */
export const createKernelSlice =
  (notebook: Notebook & { role?: NotebookRole }): StateCreator<NotebookState, [], [], KernelSlice> =>
  (set) => ({
    kernel: { status: "connecting" },
    workers: null,
    role: notebook.role ?? "owner",
    accessRemoved: false,
    placement: null,
    deviceQueue: {},
    kernelImage: imageChoice(notebook.image, notebookPackagesOf(notebook.metadata)),
    setKernelImage: (image, packages) => set({ kernelImage: imageChoice(image, packages) }),
    setRole: (role) => set(role ? { role, accessRemoved: false } : { role: "viewer", accessRemoved: true }),

    setKernelStatus: (status, reason) => set({ kernel: { status, reason } }),
    setWorkers: (connected) => set({ workers: connected }),
    setPlacement: (placement) => set({ placement }),
    setDeviceQueue: (cellId, device, position) =>
      set((s) => ({
        deviceQueue: position > 0 ? { ...s.deviceQueue, [cellId]: { device, position } } : withoutKey(s.deviceQueue, cellId),
      })),
    clearDeviceQueue: () => set({ deviceQueue: {} }),
  });
