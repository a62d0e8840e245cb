export { mountImage, isMounted, type MountImageOptions, type MountedImage } from "./mountImage";
export { buildDaemon, defaultDaemonPath, nativeDir } from "./daemon";
