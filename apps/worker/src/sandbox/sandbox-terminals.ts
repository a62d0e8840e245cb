// The terminals open in one sandbox: requests go to the kernel bridge as terminal frames, its
// frames come back as validated events. Knows which terminals are open so a checkpoint can close
// them first (a suspended kernel must not keep shells nobody can see).
import { EventEmitter } from "node:events";
import { TERMINAL_CHANNEL, validateTerminalEvent, type TerminalEvent, type TerminalRequest } from "@cellar/protocol";

const CLOSE_TIMEOUT_MS = 3000;

export function isTerminalFrame(frame: unknown): boolean {
  return typeof frame === "object" && frame !== null && (frame as { channel?: unknown }).channel === TERMINAL_CHANNEL;
}

export class SandboxTerminals extends EventEmitter<{ event: [event: TerminalEvent] }> {
  private readonly open = new Set<string>();
  /** Terminals being closed by the worker, with the reason their exit will carry. */
  private readonly closing = new Map<string, string>();

  /** `write` sends one frame to the bridge, returning false when the sandbox is not running. */
  constructor(
    private readonly write: (frame: object) => boolean,
    private readonly label: string,
  ) {
    super();
  }

  get openIds(): string[] {
    return [...this.open];
  }

  request(req: TerminalRequest): void {
    if (req.type === "open") this.open.add(req.id);
    if (!this.write({ ...req, channel: TERMINAL_CHANNEL }) && req.type === "open") this.ended(req.id, "the kernel is not running");
  }

  /** A frame from the bridge on the terminal channel. */
  onFrame(frame: unknown): void {
    const checked = validateTerminalEvent(frame);
    if (!checked.ok) {
      console.error(`[sandbox ${this.label}] dropped invalid terminal frame: ${checked.error}`);
      return;
    }
    const event = checked.value;
    if (event.type === "exit") return this.ended(event.id, this.closing.get(event.id) ?? event.reason);
    if (this.open.has(event.id)) this.emit("event", event);
  }

  /** Hangs up every open terminal and waits (briefly) for their shells to end. Those that do not
   * end in time are reported ended anyway; the checkpoint then carries them, harmlessly. */
  async closeAll(reason: string): Promise<void> {
    const ids = this.openIds;
    if (!ids.length) return;
    const allEnded = new Promise<void>((resolve) => {
      const check = (e: TerminalEvent) => {
        if (e.type === "exit" && !this.open.size) {
          this.off("event", check);
          resolve();
        }
      };
      this.on("event", check);
    });
    for (const id of ids) {
      this.closing.set(id, reason);
      this.request({ type: "close", id });
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      allEnded,
      new Promise((r) => {
        timer = setTimeout(r, CLOSE_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    for (const id of this.openIds) this.ended(id, reason);
  }

  private ended(id: string, reason: string): void {
    this.closing.delete(id);
    if (!this.open.delete(id)) return;
    this.emit("event", { type: "exit", id, reason });
  }
}
