export { startKernelSandbox, restoreKernelSandbox, reapOrphanSandboxes, bundleDirFor, KernelSandbox } from "./kernel-sandbox";
export type { KernelSandboxOptions, RestoreKernelSandboxOptions, KernelSandboxExit, KernelSandboxEvents } from "./kernel-sandbox";
export { buildOciConfig, writeBundle, containerIdFor, DEFAULT_BRIDGE_DIR, BRIDGE_MOUNT, WORKSPACE_MOUNT, SANDBOX_UID } from "./bundle";
export type { SandboxLimits, BundleOptions } from "./bundle";
export { runscList, runscDelete, runscKill, runscRemove, runscRun, runscRoot, runscRestore, runscCheckpoint, runscVersion } from "./runsc";
export type { RunscConfig, RunscContainer } from "./runsc";
export { describeExit } from "./exit-reason";
