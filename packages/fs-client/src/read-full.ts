import type { FileHandle } from "node:fs/promises";

/** Reads into `buf` until it is full or the file ends, from `position` on (null: the handle's own
 * position, as a sequential reader wants); resolves with the bytes read. One `read` may return
 * fewer bytes than asked for well before the end of a file. */
export async function readFull(fh: FileHandle, buf: Buffer, position: number | null): Promise<number> {
  let filled = 0;
  while (filled < buf.length) {
    const { bytesRead } = await fh.read(buf, filled, buf.length - filled, position === null ? null : position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}
