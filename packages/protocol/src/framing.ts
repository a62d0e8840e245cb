// Worker <-> kernel bridge framing over the sandbox's stdin/stdout: a 4-byte big-endian length,
// then that many bytes of UTF-8 JSON. Length-prefixing (rather than newline-delimited JSON) keeps
// frames intact whatever bytes they carry and lets the reader allocate once per frame.
export const FRAME_HEADER_BYTES = 4;
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

export function encodeFrame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), "utf8");
  if (body.length > MAX_FRAME_BYTES) throw new Error(`frame of ${body.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const head = Buffer.alloc(FRAME_HEADER_BYTES);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Incremental decoder: feed it chunks as they arrive, get whole frames out. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Returns the frames completed by this chunk. Throws on a frame larger than the limit or on
   * a body that is not JSON: the stream is then unrecoverable and the caller should close it. */
  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: unknown[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) break;
      const head = this.peek(FRAME_HEADER_BYTES);
      const len = head.readUInt32BE(0);
      if (len > this.maxFrameBytes) throw new Error(`frame of ${len} bytes exceeds ${this.maxFrameBytes}`);
      if (this.buffered < FRAME_HEADER_BYTES + len) break;
      const bytes = this.take(FRAME_HEADER_BYTES + len).subarray(FRAME_HEADER_BYTES);
      frames.push(JSON.parse(bytes.toString("utf8")));
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.buffered -= n;
    return all.subarray(0, n);
  }
}
