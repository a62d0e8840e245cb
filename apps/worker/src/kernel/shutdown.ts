// What a worker does with its kernels when it is told to stop (SIGTERM/SIGINT): every idle
// kernel is suspended, so its notebook resumes it on the next worker with its variables intact.
// A busy kernel gets `graceMs` to finish its cell and is suspended then; one still busy after
// that is stopped, because its running cell's output could not reach anyone while it is moved.
import type { KernelSession } from "./kernel-session";

const POLL_MS = 100;

export async function suspendForShutdown(sessions: KernelSession[], graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  const settled = (s: KernelSession) => s.state === "suspended" || s.state === "dead";
  await Promise.all(sessions.map(async (s) => {
    for (;;) {
      if (settled(s) || (await s.suspend()) || settled(s)) return;
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    await s.stop("The worker was restarted while this kernel was busy, so the kernel was stopped; restart it to run code.");
  }));
}
