// What a worker does with its kernels when it is told to stop (SIGTERM/SIGINT): every idle
// kernel is suspended, so its notebook resumes it on the next worker with its variables intact.
// A busy kernel gets `graceMs` to finish its cell and is suspended then; one still busy after
// that is stopped, because its running cell's output could not reach anyone while it is moved.
import type { KernelSession } from "./kernel-session";

const POLL_MS = 100;
/** Checkpoints taken at once. A worker with many kernels that checkpointed them all together
 * starved its own process on 2 cores long enough to miss the gateway's heartbeat (3 s), and the
 * gateway then reported every one of those kernels dead. */
const DEFAULT_PARALLEL = 2;

/** `sessions` in the order they should be moved, most important first (the caller passes the
 * newest first); idle ones go before busy ones, which get the rest of the grace to finish. */
export async function suspendForShutdown(sessions: KernelSession[], graceMs: number, parallel = DEFAULT_PARALLEL): Promise<void> {
  const deadline = Date.now() + graceMs;
  const settled = (s: KernelSession) => s.state === "suspended" || s.state === "dead";
  const queue = [...sessions.filter((s) => s.state !== "busy"), ...sessions.filter((s) => s.state === "busy")];
  const move = async (s: KernelSession) => {
    for (;;) {
      if (settled(s) || (await s.suspend()) || settled(s)) return;
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    await s.stop("The worker was restarted while this kernel was busy, so the kernel was stopped; restart it to run code.");
  };
  const lane = async () => {
    for (let s = queue.shift(); s; s = queue.shift()) await move(s);
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, lane));
}
