import { describe, expect, it } from "vitest";
import { isPublicPage, loginPath, safeNextPath } from "./login-paths";

const origin = "https://cellar.example";

describe("safeNextPath", () => {
  it("follows a path on this origin, with its query", () => {
    expect(safeNextPath("/notebook/?id=abc", origin)).toBe("/notebook/?id=abc");
    expect(safeNextPath("/", origin)).toBe("/");
  });

  it("ignores absolute URLs and what browsers read as one (no open redirect)", () => {
    for (const next of [
      "https://evil.example/",
      "http://cellar.example.evil.example/",
      "//evil.example/x",
      "/\\evil.example",
      "/\t/evil.example",
      "/.//evil.example",
      "javascript:alert(1)",
      " /notebook/",
    ])
      expect(safeNextPath(next, origin), next).toBe("/");
  });

  it("goes home instead of back to an account page, and when there is no next", () => {
    expect(safeNextPath("/login/?next=%2F", origin)).toBe("/");
    expect(safeNextPath("/signup/", origin)).toBe("/");
    expect(safeNextPath(null, origin)).toBe("/");
    expect(safeNextPath("", origin)).toBe("/");
  });
});

describe("loginPath", () => {
  it("carries the page to come back to", () => {
    expect(loginPath("/notebook/?id=a b")).toBe("/login/?next=%2Fnotebook%2F%3Fid%3Da%20b");
    expect(loginPath("/")).toBe("/login/");
  });
});

describe("isPublicPage", () => {
  it("knows the account pages and nothing else", () => {
    expect(isPublicPage("/login/")).toBe(true);
    expect(isPublicPage("/signup")).toBe(true);
    expect(isPublicPage("/loginx/")).toBe(false);
    expect(isPublicPage("/notebook/")).toBe(false);
  });
});
