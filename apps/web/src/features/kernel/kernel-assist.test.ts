import { describe, expect, it } from "vitest";
import { completionsFrom, fromCodePoints, kernelAssist, toCodePoints } from "./kernel-assist";
import type { RequestOutcome } from "./kernel-requests";

describe("cursor positions", () => {
  it("counts unicode code points as Jupyter does, not UTF-16 units", () => {
    const code = "s = '😀'; s.up";
    expect(code.length).toBe(14);
    expect(toCodePoints(code, code.length)).toBe(13);
    expect(fromCodePoints(code, 13)).toBe(14);
    expect(fromCodePoints(code, 12)).toBe(13);
  });
});

describe("completionsFrom", () => {
  it("maps the kernel's span and matches, with their types, to editor offsets", () => {
    const code = "x = '😀'\nmath.fl";
    const result = completionsFrom(code, {
      matches: ["floor", "fl"],
      cursor_start: 13,
      cursor_end: 15,
      metadata: {
        _jupyter_types_experimental: [
          { text: "floor", type: "function" },
          { text: "fl", type: "<unknown>" },
        ],
      },
    });
    expect(result).toEqual({
      from: 14,
      to: 16,
      items: [
        { label: "floor", type: "function" },
        { label: "fl", type: undefined },
      ],
    });
  });

  it("has nothing to show when the kernel found no match", () => {
    expect(completionsFrom("zzz", { matches: [], cursor_start: 0, cursor_end: 3 })).toBeNull();
  });
});

describe("kernelAssist", () => {
  const answering = (outcome: RequestOutcome<unknown>) => {
    const asked: Array<{ type: string; content: Record<string, unknown> }> = [];
    const assist = kernelAssist({
      request: async (type: string, content: Record<string, unknown>) => (asked.push({ type, content }), outcome),
    } as never);
    return { assist, asked };
  };

  it("asks for docs at level 0 and shows the text/plain part", async () => {
    const { assist, asked } = answering({
      ok: true,
      content: {
        status: "ok",
        found: true,
        data: { "text/plain": "Signature: len(obj, /)\nDocstring: Return the number of items in a container." },
      },
    });
    await expect(assist.inspect("len(", 4)).resolves.toEqual({ text: expect.stringContaining("Return the number of items") });
    expect(asked).toEqual([{ type: "inspect_request", content: { code: "len(", cursor_pos: 4, detail_level: 0 } }]);
  });

  it("shows nothing when the kernel found no docs, and says why when it could not answer", async () => {
    await expect(answering({ ok: true, content: { status: "ok", found: false, data: {} } }).assist.inspect("zz", 2)).resolves.toBeNull();
    await expect(
      answering({ ok: false, failure: "busy", message: "The kernel is busy running a cell." }).assist.complete("x.", 2),
    ).resolves.toEqual({ message: "The kernel is busy running a cell." });
  });
});
