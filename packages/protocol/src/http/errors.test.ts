import { describe, expect, it } from "vitest";
import { z } from "zod";
import { fieldErrorsOf } from "./errors";

describe("fieldErrorsOf", () => {
  const schema = z.strictObject({ a: z.int("a must be whole"), b: z.object({ c: z.string("c is text") }) });

  it("names each field by its path, dotted when nested", () => {
    const r = schema.safeParse({ a: 1.5, b: { c: 3 } });
    expect(r.success || fieldErrorsOf(r.error)).toEqual([
      { field: "a", message: "a must be whole" },
      { field: "b.c", message: "c is text" },
    ]);
  });

  it("names each unknown key on its own", () => {
    const r = schema.safeParse({ a: 1, b: { c: "x" }, colour: 1, size: 2 });
    expect(r.success || fieldErrorsOf(r.error)).toEqual([
      { field: "colour", message: "Unknown field 'colour'" },
      { field: "size", message: "Unknown field 'size'" },
    ]);
  });
});
