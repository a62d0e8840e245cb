import { describe, expect, it } from "vitest";
import { encodeFrame, FrameDecoder } from "./framing";

describe("bridge framing", () => {
  it("round-trips frames split at every byte boundary", () => {
    const values = [{ a: 1 }, { text: "line\nwith \u0000 nul and ünïcode 🚀" }, { big: "x".repeat(100_000) }];
    const bytes = Buffer.concat(values.map(encodeFrame));
    for (const step of [1, 3, 4, 5, 4096]) {
      const dec = new FrameDecoder();
      const out: unknown[] = [];
      for (let i = 0; i < bytes.length; i += step) out.push(...dec.push(bytes.subarray(i, i + step)));
      expect(out).toEqual(values);
    }
  });

  it("delivers several frames arriving in one chunk", () => {
    const dec = new FrameDecoder();
    expect(dec.push(Buffer.concat([encodeFrame(1), encodeFrame(2), encodeFrame(3)]))).toEqual([1, 2, 3]);
  });

  it("carries base64 binary buffers intact", () => {
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const dec = new FrameDecoder();
    const [frame] = dec.push(encodeFrame({ buffers: [binary.toString("base64")] })) as any[];
    expect(Buffer.from(frame.buffers[0], "base64")).toEqual(binary);
  });

  it("refuses a frame larger than the limit instead of buffering it", () => {
    const dec = new FrameDecoder(1024);
    expect(() => dec.push(encodeFrame({ s: "y".repeat(2000) }))).toThrow(/exceeds 1024/);
  });
});
