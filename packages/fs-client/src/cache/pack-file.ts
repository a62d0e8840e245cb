import { webcrypto } from "node:crypto";
import { isHash } from "../manifest/manifest";

/*
 * A pack: many chunks in one blob, and in one file in the chunk cache. `MAGIC`, a 4-byte
 * big-endian header length, a JSON `[hash, length][]` header, then the chunks' bytes in order.
 * The cache keeps the pack exactly as fetched, so a member is `size` bytes at `offset` of it.
 */

const MAGIC = Buffer.from("cellar-pack/1\n");

export interface PackMember {
  hash: string;
  offset: number;
  size: number;
}

export class PackError extends Error {
  constructor(message: string) {
    super(`pack: ${message}`);
    this.name = "PackError";
  }
}

export function encodePack(members: { hash: string; data: Buffer }[]): Buffer {
  const header = Buffer.from(JSON.stringify(members.map((m) => [m.hash, m.data.length])));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(header.length);
  return Buffer.concat([MAGIC, len, header, ...members.map((m) => m.data)]);
}

/** Bytes of the pack's start that hold its header, or null when `head` is too short to say. */
export function packHeaderLength(head: Buffer): number | null {
  if (head.length < MAGIC.length + 4) return null;
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) throw new PackError("bad magic");
  return MAGIC.length + 4 + head.readUInt32BE(MAGIC.length);
}

/** Where each member lies, from the pack's header (`head` holds at least packHeaderLength bytes). */
export function packLayout(head: Buffer, totalLength: number): PackMember[] {
  const headerEnd = packHeaderLength(head);
  if (headerEnd === null || headerEnd > head.length || headerEnd > totalLength) throw new PackError("truncated header");
  let header: unknown;
  try {
    header = JSON.parse(head.subarray(MAGIC.length + 4, headerEnd).toString("utf8"));
  } catch {
    throw new PackError("unreadable header");
  }
  if (!Array.isArray(header)) throw new PackError("header is not a list");
  let offset = headerEnd;
  const members: PackMember[] = [];
  for (const item of header) {
    const [hash, size] = Array.isArray(item) ? item : [];
    if (typeof hash !== "string" || !isHash(hash) || !Number.isSafeInteger(size) || size < 0) throw new PackError("bad member entry");
    if (offset + size > totalLength) throw new PackError(`member ${hash} runs past the end`);
    members.push({ hash, offset, size });
    offset += size;
  }
  if (offset !== totalLength) throw new PackError("trailing bytes");
  return members;
}

/**
 * The members of a pack, each checked against its own hash: whoever wrote a pack (a worker)
 * cannot smuggle in wrong bytes. Hashing runs off the main thread (WebCrypto), which the mount's
 * fetch server shares.
 */
export async function decodePack(pack: Buffer): Promise<PackMember[]> {
  const members = packLayout(pack, pack.length);
  await Promise.all(
    members.map(async (m) => {
      const actual = Buffer.from(await webcrypto.subtle.digest("SHA-256", pack.subarray(m.offset, m.offset + m.size))).toString("hex");
      if (actual !== m.hash) throw new PackError(`member ${m.hash} hashes to ${actual}`);
    }),
  );
  return members;
}
