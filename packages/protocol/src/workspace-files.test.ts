import { describe, expect, it } from "vitest";
import { filesReadSchema, filesWriteSchema, validateFilesRequest, validateWorkspacePath, workspaceItemPathSchema } from "./workspace-files";

describe("workspace paths", () => {
  it("normalises relative paths", () => {
    expect(validateWorkspacePath("data.csv")).toEqual({ ok: true, value: "data.csv" });
    expect(validateWorkspacePath("./a//b/./c.txt")).toEqual({ ok: true, value: "a/b/c.txt" });
    expect(validateWorkspacePath("")).toEqual({ ok: true, value: "" });
    expect(validateWorkspacePath("dir/")).toEqual({ ok: true, value: "dir" });
    expect(validateWorkspacePath("naïve name (1).txt")).toEqual({ ok: true, value: "naïve name (1).txt" });
    expect(validateWorkspacePath("..hidden/x..y")).toEqual({ ok: true, value: "..hidden/x..y" });
  });

  it.each([
    ["..", "'..'"],
    ["a/../../etc/passwd", "'..'"],
    ["a/..", "'..'"],
    ["/etc/passwd", "relative"],
    ["a\\..\\b", "backslash"],
    ["a\u0000b", "control"],
    ["line\nbreak", "control"],
    ["x".repeat(256), "255 bytes"],
    ["a/".repeat(600), "too long"],
  ])("refuses %j", (input, reason) => {
    const r = validateWorkspacePath(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(reason);
  });

  it("refuses non-strings", () => {
    expect(validateWorkspacePath(42).ok).toBe(false);
    expect(validateWorkspacePath(null).ok).toBe(false);
  });

  it("an item path may not name the workspace itself", () => {
    expect(workspaceItemPathSchema.safeParse("./").success).toBe(false);
    expect(workspaceItemPathSchema.safeParse("a").success).toBe(true);
  });
});

describe("file requests", () => {
  it("accept bytes and name the bad field otherwise", () => {
    const ok = validateFilesRequest(filesWriteSchema, { notebookId: "nb1", path: "./x.txt", content: new Uint8Array([1]) });
    expect(ok).toMatchObject({ ok: true, value: { path: "x.txt" } });
    const bad = validateFilesRequest(filesWriteSchema, { notebookId: "nb1", path: "x.txt", content: "text" });
    expect(bad).toEqual({ ok: false, error: "content: content must be bytes" });
    const badNotebook = validateFilesRequest(filesReadSchema, { notebookId: "../x", path: "a", maxBytes: 10 });
    expect(badNotebook.ok).toBe(false);
    if (!badNotebook.ok) expect(badNotebook.error).toMatch(/^notebookId/);
  });
});
