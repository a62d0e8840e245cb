import { describe, expect, it } from "vitest";
import { streamTail } from "./stream-tail";

describe("streamTail", () => {
  it("keeps short text whole", () => {
    expect(streamTail("a\nb\n", 10, 1000)).toEqual({ text: "a\nb\n", totalLines: 2, shownLines: 2, cut: false });
  });

  it("keeps the last N lines", () => {
    const t = streamTail("1\n2\n3\n4\n5\n", 2, 1000);
    expect(t).toEqual({ text: "4\n5\n", totalLines: 5, shownLines: 2, cut: true });
  });

  it("counts a last line without a newline", () => {
    expect(streamTail("1\n2\n3", 2, 1000).text).toBe("2\n3");
  });

  it("caps characters too, cutting at a line start when one is near", () => {
    const t = streamTail("aaaa\nbbbb\ncccc\n", 100, 8);
    expect(t.text).toBe("cccc\n");
    expect(t.cut).toBe(true);
  });

  it("handles a single huge line", () => {
    const t = streamTail("x".repeat(100), 10, 10);
    expect(t.text).toBe("x".repeat(10));
    expect(t.cut).toBe(true);
  });
});
