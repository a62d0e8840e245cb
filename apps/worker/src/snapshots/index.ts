export { WarmSnapshots } from "./warm-snapshots";
export type { WarmSnapshotsOptions, SessionSandboxOptions, StartedKernel } from "./warm-snapshots";
export { SnapshotStore } from "./snapshot-store";
export type { LocalSnapshot, SnapshotRemote } from "./snapshot-store";
export { DEFAULT_WARMUP, warmSnapshotKey, bridgeVersion, warmupCode } from "./snapshot-key";
export type { WarmSnapshotSpec, KernelRuntime } from "./snapshot-key";
export { KernelPool } from "./kernel-pool";
export type { KernelPoolOptions, PoolStartedKernel } from "./kernel-pool";
