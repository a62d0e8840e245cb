// What a kernel session has said that the gateway has not yet recorded. Every message gets the
// session's next sequence number and stays here until the gateway acknowledges it, so that after
// a lost connection (the gateway died, or a replica went away) the worker sends again exactly
// what may have been lost, and the gateway drops what it already had by number.
import { randomUUID } from "node:crypto";
import { parentIdOf } from "@cellar/kernel-client";
import type { JupyterMessage, SessionMessageEvent } from "@cellar/protocol";

/** About a minute of a flood at the gateway's output limits; older messages are dropped first
 * (the gateway has long since recorded them unless it has been unreachable that long). */
const MAX_UNACKED = 20_000;
const MAX_TRACKED_REQUESTS = 2_000;

export class SessionOutbox {
  private seq = 0;
  /** A resumed kernel on another worker (or this one restarted) numbers from 1 again: the epoch
   * tells the two numberings apart. */
  readonly epoch = randomUUID();
  private unacked: SessionMessageEvent[] = [];
  /** execute_request msg_id → cell id, from the requests the gateway sent. */
  private readonly cells = new Map<string, string>();

  constructor(
    readonly sessionId: string,
    private readonly max = MAX_UNACKED,
  ) {}

  /** A request from the gateway: its answers will name its cell. */
  noteRequest(msg: JupyterMessage): void {
    const cellId = msg.metadata?.cellId;
    if (msg.header.msg_type !== "execute_request" || typeof cellId !== "string") return;
    this.cells.set(msg.header.msg_id, cellId);
    if (this.cells.size > MAX_TRACKED_REQUESTS) this.cells.delete(this.cells.keys().next().value!);
  }

  /** Numbers a kernel message and keeps it until acknowledged. */
  add(message: JupyterMessage): SessionMessageEvent {
    const parent = parentIdOf(message);
    const cellId = parent ? this.cells.get(parent) : undefined;
    const event: SessionMessageEvent = {
      sessionId: this.sessionId,
      message,
      seq: ++this.seq,
      epoch: this.epoch,
      ...(cellId ? { cellId } : {}),
    };
    this.unacked.push(event);
    if (this.unacked.length > this.max) this.unacked.splice(0, this.unacked.length - this.max);
    return event;
  }

  /** The last message a gateway said it recorded (0: none). */
  private ackedSeq = 0;

  /** How far a gateway has recorded this session's messages, for the next one to start from. */
  get acked(): { epoch: string; seq: number } {
    return { epoch: this.epoch, seq: this.ackedSeq };
  }

  /** The gateway has recorded everything up to `seq`. */
  ack(seq: number): void {
    this.ackedSeq = Math.max(this.ackedSeq, Math.min(seq, this.seq));
    let i = 0;
    while (i < this.unacked.length && this.unacked[i].seq <= seq) i++;
    if (i) this.unacked.splice(0, i);
  }

  /** What to send again on a new connection, oldest first. */
  pending(): readonly SessionMessageEvent[] {
    return this.unacked;
  }
}
