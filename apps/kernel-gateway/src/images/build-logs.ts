// What the last build of each image printed, kept in memory for the Images page (GET
// /api/images/:name/log). Bounded both ways: a chatty build keeps its last lines, and a gateway
// whose notebooks make many pip images forgets the oldest logs, so memory stays flat however long
// it runs. A restart forgets them all: the catalog's own check at startup writes each one anew.

export type BuildStatus = "building" | "built" | "failed";

export interface BuildLog {
  name: string;
  status: BuildStatus;
  startedAt: string;
  finishedAt: string | null;
  /** The last `maxLines` lines, oldest first. */
  lines: string[];
  /** How many lines were cut off the top. */
  dropped: number;
}

export interface BuildLogsOptions {
  maxLines?: number;
  maxImages?: number;
  now?: () => Date;
}

export class BuildLogs {
  private readonly logs = new Map<string, BuildLog>();
  private readonly maxLines: number;
  private readonly maxImages: number;
  private readonly now: () => Date;

  constructor(opts: BuildLogsOptions = {}) {
    this.maxLines = opts.maxLines ?? 400;
    this.maxImages = opts.maxImages ?? 200;
    this.now = opts.now ?? (() => new Date());
  }

  /** Starts the image's log afresh (the earlier build's lines go); `add` appends, `end` closes it
   * once. A second build of the same name while one runs takes the log over: the page shows the
   * latest. */
  begin(name: string): { add(line: string): void; end(status: Exclude<BuildStatus, "building">, error?: string): void } {
    const log: BuildLog = { name, status: "building", startedAt: this.now().toISOString(), finishedAt: null, lines: [], dropped: 0 };
    // Re-inserted, so the map's order is oldest build first and eviction takes the stalest.
    this.logs.delete(name);
    this.logs.set(name, log);
    for (const oldest of this.logs.keys()) {
      if (this.logs.size <= this.maxImages) break;
      this.logs.delete(oldest);
    }
    const add = (line: string) => {
      log.lines.push(line);
      if (log.lines.length > this.maxLines) {
        log.lines.shift();
        log.dropped++;
      }
    };
    return {
      add,
      end: (status, error) => {
        if (log.status !== "building") return;
        if (error) add(error);
        log.status = status;
        log.finishedAt = this.now().toISOString();
      },
    };
  }

  get(name: string): BuildLog | undefined {
    const log = this.logs.get(name);
    return log && { ...log, lines: [...log.lines] };
  }
}
