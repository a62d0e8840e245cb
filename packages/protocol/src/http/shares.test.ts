import { describe, expect, it } from "vitest";
import { isShareLinkSecret, SHARE_LINK_MAX_LENGTH } from "./shares";

describe("isShareLinkSecret", () => {
  it("takes a string up to the limit, and nothing longer, empty or not a string", () => {
    expect(isShareLinkSecret("x".repeat(SHARE_LINK_MAX_LENGTH))).toBe(true);
    expect(isShareLinkSecret("x".repeat(SHARE_LINK_MAX_LENGTH + 1))).toBe(false);
    expect(isShareLinkSecret("")).toBe(false);
    expect(isShareLinkSecret(["abc"])).toBe(false);
    expect(isShareLinkSecret(undefined)).toBe(false);
  });
});
