// The files of a kernel state move (issue 15), carried from the old worker to the new one straight
// (the new worker fetches them from the old one's move server, move-server.ts), or, where it cannot
// reach it, through the gateway piece by piece; not through the content store: hashing, storing,
// fetching and checking a gigabyte of arrays cost more than the move itself, and filled the store
// with bytes no one would read again.
//
// The old worker takes the move's folder out of the workspace once the kernel has written it (so
// the workspace stored for the next kernel is only the user's files) and serves it, to the holder
// of the move's token only; the new worker writes the files into a folder of its own and, at the
// import, puts it where the kernel reads it. Both folders go when the gateway says the move is
// over, and at the next start.
import { timingSafeEqual } from "node:crypto";
import { createWriteStream, type Dirent } from "node:fs";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { pipeline } from "node:stream/promises";
import { chown, cp, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { readFull } from "@cellar/fs-client";
import { MOVE_PIECE_MAX_BYTES, moveFileNameSchema, type MoveFile } from "@cellar/protocol";
import { eachAtMost } from "../each-at-most";
import { writeAt } from "../snapshots/snapshot-store";

/** Where a kernel writes a move inside its workspace (cellar_state.py's move_dir). */
export function moveDirIn(workspaceDir: string, moveId: string): string {
  return path.join(workspaceDir, ".cellar", "moves", moveId);
}

const validMoveFileName = (name: unknown): name is string => moveFileNameSchema.safeParse(name).success;

/** A file larger than this is fetched in ranges of it. */
const RANGE_BYTES = 256 << 20;

/** An outgoing move no one asked to drop goes after this long (the gateway died mid-move). */
const ABANDONED_MS = 15 * 60_000;

export class MoveFiles {
  private readonly outgoing: string;
  private readonly incoming: string;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Incoming moves whose folder is made (or being made). */
  private readonly made = new Map<string, Promise<void>>();
  /** Outgoing moves' tokens: who may fetch their files from the move server. */
  private readonly tokens = new Map<string, string>();
  /** The moves a previous run of this worker left are gone (their gateways gave up on them). */
  private readonly cleared: Promise<void>;

  /** `home`: the worker's folder; the moves live beside its workspaces, on the same disk, so
   * taking a move out of a workspace and putting one in are renames. */
  constructor(
    home: string,
    /** Who the kernel runs as (the worker being root): the files it is given are its own. */
    private readonly owner?: { uid: number; gid: number },
    /** Bytes per range of a file fetched from another worker. */
    private readonly rangeBytes = RANGE_BYTES,
  ) {
    this.outgoing = path.join(home, "moves", "out");
    this.incoming = path.join(home, "moves", "in");
    this.cleared = rm(path.join(home, "moves"), { recursive: true, force: true }).catch((err) =>
      console.warn(`worker: could not clear old moves: ${(err as Error).message}`),
    );
  }

  /** Takes the move the kernel wrote out of `workspaceDir`; returns its files, to be read by the
   * gateway or fetched by the holder of `token`. */
  async takeOut(workspaceDir: string, moveId: string, token?: string): Promise<MoveFile[]> {
    const from = moveDirIn(workspaceDir, moveId);
    const to = path.join(this.outgoing, moveId);
    await this.cleared;
    await mkdir(this.outgoing, { recursive: true, mode: 0o700 });
    await moveFolder(from, to);
    const files: MoveFile[] = [];
    for (const entry of (await readdir(to, { withFileTypes: true })) as Dirent[]) {
      if (!entry.isFile() || !validMoveFileName(entry.name)) throw new Error(`unexpected entry ${JSON.stringify(entry.name)} in the move`);
      files.push({ name: entry.name, size: (await stat(path.join(to, entry.name))).size });
    }
    if (token) this.tokens.set(moveId, token);
    this.timers.set(moveId, setTimeout(() => void this.drop(moveId), ABANDONED_MS).unref());
    return files.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** `length` bytes of an outgoing move's file from `offset` (fewer at its end). */
  async read(moveId: string, name: string, offset: number, length: number): Promise<Buffer> {
    const fh = await open(path.join(this.outgoing, moveId, checked(name)), "r");
    try {
      const buf = Buffer.allocUnsafe(Math.max(0, Math.min(length, MOVE_PIECE_MAX_BYTES)));
      const filled = await readFull(fh, buf, offset);
      return filled === buf.length ? buf : buf.subarray(0, filled);
    } finally {
      await fh.close();
    }
  }

  /** The file of an outgoing move that the holder of `token` may fetch; null for anyone else. */
  servedFile(moveId: string, name: string, token: string): string | null {
    const want = this.tokens.get(moveId);
    if (!want || !validMoveFileName(name) || !sameSecret(token, want)) return null;
    return path.join(this.outgoing, moveId, name);
  }

  /** Fetches an incoming move's files from the old worker's move server (`url`: its base);
   * resolves with the bytes fetched. */
  async fetch(moveId: string, url: string, token: string, files: MoveFile[]): Promise<number> {
    const dir = await this.incomingDir(moveId);
    let bytes = 0;
    try {
      const ranges: FileRange[] = [];
      for (const f of files) {
        const file = path.join(dir, checked(f.name));
        // Made whole-size first: the ranges land in it in any order.
        await truncateTo(file, f.size);
        const source = new URL(`${encodeURIComponent(moveId)}/${encodeURIComponent(f.name)}`, url);
        for (let start = 0; start < f.size; start += this.rangeBytes)
          ranges.push({ source, file, start, length: Math.min(this.rangeBytes, f.size - start) });
      }
      await eachAtMost(ranges, FETCHES_AT_ONCE, async (r) => {
        const got = await downloadRange(r, token);
        // Added after the await: `bytes += await …` would add to the total read before it.
        bytes += got;
      });
    } catch (err) {
      // Whatever came is no good: the gateway's pieces, if it carries the move instead, start afresh.
      await rm(dir, { recursive: true, force: true });
      this.made.delete(moveId);
      throw err;
    }
    return bytes;
  }

  /** Writes a piece of an incoming move's file at `offset` (pieces may come in any order). */
  async write(moveId: string, name: string, offset: number, data: Uint8Array): Promise<void> {
    if (data.length > MOVE_PIECE_MAX_BYTES) throw new Error(`a move piece of ${data.length} bytes is over ${MOVE_PIECE_MAX_BYTES}`);
    await writeAt(path.join(await this.incomingDir(moveId), checked(name)), data, offset, { create: true });
  }

  /** The folder an incoming move's files go into, made once per move (not for each of its
   * hundreds of pieces). */
  private async incomingDir(moveId: string): Promise<string> {
    const dir = path.join(this.incoming, moveId);
    await this.cleared;
    let made = this.made.get(moveId);
    if (!made) this.made.set(moveId, (made = mkdir(dir, { recursive: true, mode: 0o755 }).then(() => {})));
    await made;
    return dir;
  }

  /** Puts the incoming move where the kernel of `workspaceDir` reads it. False: none came (the
   * move was local, or its files were laid out with the workspace). */
  async placeIn(workspaceDir: string, moveId: string): Promise<boolean> {
    const from = path.join(this.incoming, moveId);
    if (!(await stat(from).catch(() => null))) return false;
    const to = moveDirIn(workspaceDir, moveId);
    await mkdir(path.dirname(to), { recursive: true, mode: 0o755 });
    await rm(to, { recursive: true, force: true });
    if (this.owner) {
      const { uid, gid } = this.owner;
      await chown(from, uid, gid);
      for (const name of await readdir(from)) await chown(path.join(from, name), uid, gid);
    }
    this.made.delete(moveId);
    await moveFolder(from, to);
    return true;
  }

  /** The move is over (imported, or given up): its files go, on either side. */
  async drop(moveId: string): Promise<void> {
    clearTimeout(this.timers.get(moveId));
    this.timers.delete(moveId);
    this.made.delete(moveId);
    this.tokens.delete(moveId);
    await Promise.all([
      rm(path.join(this.outgoing, moveId), { recursive: true, force: true }),
      rm(path.join(this.incoming, moveId), { recursive: true, force: true }),
    ]);
  }
}

const STALL_MS = 30_000;

/** Ranges of a move fetched at once. Two or more streams of one 1 GiB file over loopback took
 * 0.60-0.72 s against 0.79-0.95 s for one (0.85-1.07 s against 1.14-1.27 s with a core kept
 * busy): one stream leaves the other core idle. */
const FETCHES_AT_ONCE = 4;

interface FileRange {
  source: URL;
  file: string;
  start: number;
  length: number;
}

async function truncateTo(file: string, size: number): Promise<void> {
  const fh = await open(file, "w", 0o644);
  try {
    await fh.truncate(size);
  } finally {
    await fh.close();
  }
}

/** GETs one range of a file into its place; fails unless exactly its bytes came. */
async function downloadRange({ source, file, start, length }: FileRange, token: string): Promise<number> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const headers = { authorization: `Bearer ${token}`, range: `bytes=${start}-${start + length - 1}` };
    const req = (source.protocol === "https:" ? https : http).get(source, { headers }, resolve);
    req.on("error", reject);
    // A worker that stops sending is given up on (the gateway then carries the move).
    req.setTimeout(STALL_MS, () => req.destroy(new Error(`${source.host} sent nothing for ${STALL_MS / 1000} s`)));
  });
  if (res.statusCode !== 206) {
    res.resume();
    throw new Error(`${source.host} answered ${res.statusCode} for ${path.basename(file)}`);
  }
  let got = 0;
  // 4 MiB of buffered writes, not the default 16 KiB: measured here for a 1 GiB file over
  // loopback, 0.70-1.17 s against 1.50-2.00 s (the socket's 64 KiB chunks were written almost
  // one by one).
  await pipeline(
    res,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        got += chunk.length;
        if (got > length) throw new Error(`${path.basename(file)} came with more than the ${length} bytes asked for at ${start}`);
        yield chunk;
      }
    },
    createWriteStream(file, { flags: "r+", start, highWaterMark: 4 << 20 }),
  );
  if (got !== length) throw new Error(`${path.basename(file)} came with ${got} of the ${length} bytes at ${start}`);
  return got;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function checked(name: string): string {
  if (!validMoveFileName(name)) throw new Error(`bad move file name ${JSON.stringify(name)}`);
  return name;
}

/** A rename; a copy where the two folders are on different disks (a workspace on a mount). */
async function moveFolder(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
    await cp(from, to, { recursive: true });
    await rm(from, { recursive: true, force: true });
  }
}
