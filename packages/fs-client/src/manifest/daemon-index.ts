import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import type { EntryType, Manifest } from "./manifest";

/*
 * The flat text index the native FUSE daemon loads. One line per entry, TAB-separated:
 *   path mode uid gid size mtime target chunks
 * after a header line `cellar-index 1 <chunkSize>`. Chosen over JSON so the C side needs no
 * parser library: split on TAB and LF, then undo %XX.
 */

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
const S_IFMT = 0o170000;

export interface DaemonIndexEntry {
  path: string;
  /** Full st_mode: type bits plus permissions. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  target: string | null;
  chunks: string[];
}

export interface DaemonIndex {
  chunkSize: number;
  entries: DaemonIndexEntry[];
}

const TYPE_BITS: Record<EntryType, number> = { file: S_IFREG, dir: S_IFDIR, symlink: S_IFLNK };

export function typeOfMode(mode: number): EntryType | null {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "symlink";
    default:
      return null;
  }
}

// eslint-disable-next-line no-control-regex
const NEEDS_ENCODING = /[\x00-\x1f%]/;

/** `%`, and every byte below 0x20 (TAB, LF, CR among them) become %XX; other UTF-8 stays raw. */
export function percentEncode(s: string): string {
  // Nearly every path needs nothing: a 50k-entry index is written on each attach.
  if (!NEEDS_ENCODING.test(s)) return s;
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || ch === "%") out += "%" + c.toString(16).toUpperCase().padStart(2, "0");
    else out += ch;
  }
  return out;
}

export function percentDecode(s: string): string {
  if (!s.includes("%")) return s;
  const bytes: number[] = [];
  const raw = Buffer.from(s, "utf8");
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x25) {
      const hex = raw.subarray(i + 1, i + 3).toString("latin1");
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new Error(`bad percent escape in ${JSON.stringify(s)}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(raw[i]!);
  }
  return Buffer.from(bytes).toString("utf8");
}

function encodeTarget(target: string | undefined): string {
  if (target === undefined) return "-";
  // A link whose target is literally "-" must not read back as "no target".
  if (target === "-") return "%2D";
  return percentEncode(target);
}

export function formatDaemonIndex(manifest: Manifest): string {
  const lines = [`cellar-index 1 ${manifest.chunkSize}`];
  for (const e of manifest.entries) {
    const chunks = e.chunks && e.chunks.length > 0 ? e.chunks.join(",") : "-";
    lines.push(
      [
        percentEncode(e.path),
        (TYPE_BITS[e.type] | e.mode).toString(8),
        e.uid,
        e.gid,
        e.size,
        Math.floor(e.mtime),
        encodeTarget(e.target),
        chunks,
      ].join("\t"),
    );
  }
  return lines.join("\n") + "\n";
}

/** Written to a temp file and renamed, so a daemon never loads half an index. */
export async function writeDaemonIndex(manifest: Manifest, file: string): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, formatDaemonIndex(manifest), "utf8");
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export function parseDaemonIndex(text: string): DaemonIndex {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const header = /^cellar-index 1 (\d+)$/.exec(lines[0] ?? "");
  if (!header) throw new Error("not a cellar-index 1 file");
  const entries = lines.slice(1).map((line, i) => {
    const f = line.split("\t");
    if (f.length !== 8) throw new Error(`index line ${i + 2}: expected 8 fields, got ${f.length}`);
    const [path, mode, uid, gid, size, mtime, target, chunks] = f as [string, ...string[]];
    return {
      path: percentDecode(path),
      mode: parseInt(mode!, 8),
      uid: Number(uid),
      gid: Number(gid),
      size: Number(size),
      mtime: Number(mtime),
      target: target === "-" ? null : percentDecode(target!),
      chunks: chunks === "-" ? [] : chunks!.split(","),
    };
  });
  return { chunkSize: Number(header[1]), entries };
}

export async function readDaemonIndex(file: string): Promise<DaemonIndex> {
  return parseDaemonIndex(await readFile(file, "utf8"));
}
