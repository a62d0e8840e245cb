// A worker's answer to one of the gateway's requests, where the request is a step the user waits
// on (a state move's export, fetch, pieces, import). socket.io keeps an ack pending across a
// disconnect until its timeout, which for a gigabyte's step is minutes: a worker that is gone
// answers nothing, so its going away fails the step at once.
import type { GatewayToWorker } from "@cellar/protocol";
import type { WorkerSocket } from "./worker-pool";

/** A worker's ack, or why none came. */
export type WorkerAnswer<T extends object = Record<string, unknown>> = ({ ok: true } & T) | { ok: false; error: string };

/** Emits `event` and resolves with the worker's answer; its silence past `timeoutMs`, or its
 * disconnecting first, resolves as a failed answer (never rejects). */
export function answerOf<T extends object, E extends keyof GatewayToWorker>(
  socket: WorkerSocket,
  event: E,
  payload: Parameters<GatewayToWorker[E]>[0],
  timeoutMs: number,
): Promise<WorkerAnswer<T>> {
  if (!socket.connected) return Promise.resolve({ ok: false, error: "it is not connected" });
  return new Promise((resolve) => {
    const gone = () => resolve({ ok: false, error: "it disconnected" });
    socket.once("disconnect", gone);
    // biome-ignore lint/suspicious/noExplicitAny: socket.io cannot type an event chosen by a type parameter
    (socket.timeout(timeoutMs).emitWithAck as (...a: any[]) => Promise<WorkerAnswer<T>>)(event, payload)
      .then(resolve, () => resolve({ ok: false, error: `no answer within ${timeoutMs / 1000} s` }))
      .finally(() => socket.off("disconnect", gone));
  });
}
