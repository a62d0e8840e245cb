// Every state a kernel can be in, and every move between them, stated once. The worker's
// KernelSession moves only along this table, the gateway checks what workers report against it,
// and the browser shows what the gateway says.
//
// Adding a state (the next issues add "moving", for a kernel carried to another worker, and
// "queued for a device", for one waiting for a GPU) is one entry in KERNEL_STATES plus its row in
// KERNEL_TRANSITIONS and the rows that lead into it; the compiler asks for the row.

/** "disconnected": the gateway has no worker for it (or, in a browser, no gateway); "suspending":
 * the worker is checkpointing an idle kernel (outside the worker it still reads "idle", see
 * SHOWN_AS); "suspended": checkpointed and its sandbox stopped, the next request resumes it
 * ("resuming") with its variables intact; "restarting": the gateway is replacing it. */
export const KERNEL_STATES = [
  "disconnected",
  "starting",
  "idle",
  "busy",
  "suspending",
  "suspended",
  "resuming",
  "restarting",
  "dead",
] as const;

export type KernelState = (typeof KERNEL_STATES)[number];

/** States only the worker sees, and what everyone else is told instead: the gateway and the user
 * see "idle" until the checkpoint is stored, because until then a request still runs at once. */
const SHOWN_AS = { suspending: "idle" } as const satisfies Partial<Record<KernelState, KernelState>>;

/** A state as the gateway and the browser know it (every state but the worker's own). */
export type KernelStatus = Exclude<KernelState, keyof typeof SHOWN_AS>;

export const KERNEL_STATUSES = KERNEL_STATES.filter((s): s is KernelStatus => !(s in SHOWN_AS));

/** The gateway's own states, which a worker never reports. */
const GATEWAY_ONLY = ["disconnected", "restarting"] as const satisfies readonly KernelStatus[];

/** The states a kernel session on a worker passes through. */
export type WorkerState = Exclude<KernelState, (typeof GATEWAY_ONLY)[number]>;

/** What a worker may report for a session (`session:status`). */
export type WorkerStatus = ShownStatus<WorkerState>;

export const WORKER_STATUSES = KERNEL_STATUSES.filter((s): s is WorkerStatus => !(GATEWAY_ONLY as readonly string[]).includes(s));

/** From each state, the states it may move to. Staying in a state (perhaps with a new reason) is
 * not a move and is always allowed. The gateway's own moves (restarting; disconnected, its first
 * state for a new kernel until a worker takes it) share the table with the worker's. */
export const KERNEL_TRANSITIONS = {
  // And straight to whatever its worker reports when it reconnects: a restarted gateway (or
  // another replica) adopts the kernel as it is, variables and all.
  disconnected: ["starting", "idle", "busy", "suspended", "resuming", "restarting", "dead"],
  starting: ["idle", "restarting", "dead"],
  idle: ["busy", "suspending", "restarting", "dead"],
  busy: ["idle", "restarting", "dead"],
  // Back to idle when the checkpoint fails and the kernel runs on.
  suspending: ["idle", "suspended", "dead"],
  suspended: ["resuming", "restarting", "dead"],
  resuming: ["idle", "restarting", "dead"],
  // A restart replaces the kernel: the new one starts, waits for a worker, or cannot start.
  restarting: ["starting", "disconnected", "dead"],
  dead: ["restarting"],
} as const satisfies Record<KernelState, readonly KernelState[]>;

export type ShownStatus<S extends KernelState> = S extends keyof typeof SHOWN_AS ? (typeof SHOWN_AS)[S] : S;

/** What a state reads as outside the worker. */
export function shownStatus<S extends KernelState>(state: S): ShownStatus<S> {
  return (state in SHOWN_AS ? SHOWN_AS[state as keyof typeof SHOWN_AS] : state) as ShownStatus<S>;
}

/** The states of a kernel that has started and takes requests at once. */
const RUNNING = ["idle", "busy"] as const satisfies readonly KernelStatus[];

export type RunningState = (typeof RUNNING)[number];

/** Whether a kernel in `state` runs: started, not suspended, not dead (idle or busy). */
export function isRunning(state: KernelState): state is RunningState {
  return (RUNNING as readonly KernelState[]).includes(state);
}

export function isKernelState(value: unknown): value is KernelState {
  return typeof value === "string" && (KERNEL_STATES as readonly string[]).includes(value);
}

/** Whether a kernel in `from` may move to `to` (true when they are the same). */
export function canTransition(from: KernelState, to: KernelState): boolean {
  return from === to || (KERNEL_TRANSITIONS[from] as readonly KernelState[]).includes(to);
}

/** The moves seen from outside the worker: those of the table with the worker's own states
 * replaced by what they read as (so idle -> suspended is one, through "suspending"). */
const STATUS_TRANSITIONS: Record<KernelStatus, ReadonlySet<KernelStatus>> = (() => {
  const moves = Object.fromEntries(KERNEL_STATUSES.map((s) => [s, new Set<KernelStatus>()])) as Record<KernelStatus, Set<KernelStatus>>;
  for (const from of KERNEL_STATES) {
    for (const to of KERNEL_TRANSITIONS[from]) {
      const a = shownStatus(from);
      const b = shownStatus(to);
      if (a !== b) moves[a].add(b);
    }
  }
  return moves;
})();

/** Whether a status the gateway or a browser holds may be followed by `to`: what the gateway
 * checks a worker's reports against (true when they are the same). */
export function canChangeStatus(from: KernelStatus, to: KernelStatus): boolean {
  return from === to || STATUS_TRANSITIONS[from].has(to);
}

export class IllegalKernelTransition extends Error {
  constructor(
    readonly from: KernelState,
    readonly to: KernelState,
  ) {
    super(`a kernel cannot move from ${from} to ${to}`);
    this.name = "IllegalKernelTransition";
  }
}

/** Throws IllegalKernelTransition unless `from` may move to `to`. */
export function assertTransition(from: KernelState, to: KernelState): void {
  if (!canTransition(from, to)) throw new IllegalKernelTransition(from, to);
}
