import { describe, expect, it } from "vitest";
import { joinPath, parentOf, textOf } from "./workspace-files";

describe("workspace file helpers", () => {
  it("opens UTF-8 text and refuses binary", () => {
    expect(textOf(new TextEncoder().encode("a,b\n1,2\nnaïve ✓\n"))).toBe("a,b\n1,2\nnaïve ✓\n");
    expect(textOf(new Uint8Array([]))).toBe("");
    expect(textOf(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBeNull();
    expect(textOf(new Uint8Array([0x61, 0x00, 0x62]))).toBeNull();
    expect(textOf(new Uint8Array([0xc3, 0x28]))).toBeNull();
  });

  it("joins and splits workspace paths", () => {
    expect(joinPath("", "a.txt")).toBe("a.txt");
    expect(joinPath("dir/sub", "a.txt")).toBe("dir/sub/a.txt");
    expect(parentOf("dir/sub/a.txt")).toBe("dir/sub");
    expect(parentOf("a.txt")).toBe("");
  });
});
