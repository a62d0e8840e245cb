// Carries the files of a kernel state move from the old worker to the new one, piece by piece
// over the two workers' sockets (`move:read` there, `move:write` here), a few pieces in flight at
// once so that reading, relaying and writing overlap. Moves happen inside one gateway replica
// (both workers are connected to it), so the relay needs nothing beyond those sockets.
import type { MoveFile } from "@cellar/protocol";
import { answerOf } from "../workers/worker-answer";
import type { WorkerSocket } from "../workers/worker-pool";

/** 4 MiB: a gigabyte is 256 pieces; each is one socket message (with its ack) each way. */
const PIECE_BYTES = 4 << 20;
/** Pieces in flight: enough to keep both sockets busy while one side waits on its disk. */
const IN_FLIGHT = 4;

export interface RelayOptions {
  /** How long one piece may take, read and written. */
  pieceTimeoutMs: number;
  /** Stops the relay between pieces (the move failed elsewhere). */
  cancelled?: () => boolean;
}

export class MoveRelayError extends Error {}

/** Copies `files` of move `moveId`; resolves with the bytes carried. */
export async function relayMoveFiles(
  from: { id: string; socket: WorkerSocket },
  to: { id: string; socket: WorkerSocket },
  moveId: string,
  files: MoveFile[],
  opts: RelayOptions,
): Promise<number> {
  const pieces: { name: string; offset: number; length: number }[] = [];
  for (const f of files)
    for (let offset = 0; offset === 0 || offset < f.size; offset += PIECE_BYTES)
      pieces.push({ name: f.name, offset, length: Math.max(0, Math.min(PIECE_BYTES, f.size - offset)) });
  let next = 0;
  let bytes = 0;
  let failed = false;
  const lane = async () => {
    while (next < pieces.length && !failed) {
      if (opts.cancelled?.()) throw new MoveRelayError("the move was given up");
      const piece = pieces[next++]!;
      let data: Uint8Array = new Uint8Array(0);
      if (piece.length > 0) {
        const read = await answerOf<{ data?: Uint8Array }, "move:read">(
          from.socket,
          "move:read",
          { moveId, ...piece },
          opts.pieceTimeoutMs,
        );
        if (!read.ok) throw new MoveRelayError(`worker ${from.id} could not read ${piece.name} of the move: ${read.error}`);
        data = read.data ?? new Uint8Array(0);
        if (data.length !== piece.length)
          throw new MoveRelayError(`worker ${from.id} gave ${data.length} bytes of ${piece.name} at ${piece.offset}, not ${piece.length}`);
      }
      const wrote = await answerOf(to.socket, "move:write", { moveId, name: piece.name, offset: piece.offset, data }, opts.pieceTimeoutMs);
      if (!wrote.ok) throw new MoveRelayError(`worker ${to.id} could not write ${piece.name} of the move: ${wrote.error}`);
      bytes += data.length;
    }
  };
  // One lane's failure stops the others at their next piece.
  const run = () =>
    lane().catch((err) => {
      failed = true;
      throw err;
    });
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, pieces.length) }, run));
  return bytes;
}
