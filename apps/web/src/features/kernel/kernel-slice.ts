// The kernel's status as the gateway announces it (kernel:status, notebook:open's answer), moved
// between busy and idle by the kernel's own iopub status too (see kernel-socket.ts for why), or the
// page's own word when it cannot reach the gateway (connecting, disconnected); and how many
// workers are connected. Set only by the kernel connection (kernel-socket.ts).
import type { StateCreator } from "zustand/vanilla";
import type { KernelStatus } from "@cellar/protocol";
import type { NotebookState } from "../notebook/notebook-store";

/** `connecting`: the page has not heard from the gateway yet. */
export type KernelDisplayStatus = KernelStatus | "connecting";

export interface KernelSlice {
  kernel: { status: KernelDisplayStatus; reason?: string };
  workers: number | null;

  setKernelStatus(status: KernelDisplayStatus, reason?: string): void;
  setWorkers(connected: number): void;
}

export const createKernelSlice: StateCreator<NotebookState, [], [], KernelSlice> = (set) => ({
  kernel: { status: "connecting" },
  workers: null,

  setKernelStatus: (status, reason) => set({ kernel: { status, reason } }),
  setWorkers: (connected) => set({ workers: connected }),
});
