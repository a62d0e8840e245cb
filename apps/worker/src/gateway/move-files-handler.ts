// Serves the gateway's "move:*" events: a kernel state move's files fetched from the old worker's
// move server, or pieces of them read here (the old worker) or written here (the new one) where
// the gateway carries them. Payloads are checked with the protocol's schemas; a failure is
// answered with its reason, never thrown.
import {
  check,
  moveDropSchema,
  moveFetchSchema,
  moveReadSchema,
  moveWriteSchema,
  type Ack,
  type GatewayToWorker,
  type Result,
} from "@cellar/protocol";
import type { MoveFiles } from "../kernel/move-files";

type MoveEvents = Pick<GatewayToWorker, "move:read" | "move:write" | "move:fetch" | "move:drop">;

/** The part of a socket this needs: something that takes "move:*" handlers. */
export interface MoveSocket {
  on<E extends keyof MoveEvents>(event: E, handler: MoveEvents[E]): unknown;
}

export function serveMoveFiles(socket: MoveSocket, moves: MoveFiles): void {
  socket.on("move:read", (p, ack) =>
    answer(ack, check(moveReadSchema, p, "move request"), async (r) => ({ data: await moves.read(r.moveId, r.name, r.offset, r.length) })),
  );
  socket.on("move:write", (p, ack) =>
    answer(ack, check(moveWriteSchema, p, "move request"), async (r) => {
      await moves.write(r.moveId, r.name, r.offset, r.data);
      return {};
    }),
  );
  socket.on("move:fetch", (p, ack) =>
    answer(ack, check(moveFetchSchema, p, "move request"), async (r) => {
      const began = performance.now();
      const bytes = await moves.fetch(r.moveId, r.url, r.token, r.files);
      console.log(
        `worker: move ${r.moveId}: fetched ${bytes} bytes from ${new URL(r.url).host} in ${(performance.now() - began).toFixed(0)} ms`,
      );
      return { bytes };
    }),
  );
  socket.on("move:drop", (p, ack) =>
    answer(ack, check(moveDropSchema, p, "move request"), async (r) => {
      await moves.drop(r.moveId);
      return {};
    }),
  );
}

async function answer<P, T extends object>(ack: Ack<T>, parsed: Result<P>, run: (p: P) => Promise<T>): Promise<void> {
  if (!parsed.ok) return ack({ ok: false, error: parsed.error });
  try {
    ack({ ok: true, ...(await run(parsed.value)) });
  } catch (err) {
    ack({ ok: false, error: (err as Error).message });
  }
}
