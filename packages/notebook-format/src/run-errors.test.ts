import { describe, expect, it } from "vitest";
import { errorStopsRun } from "./run-errors";

const plain = { metadata: {} };
const tagged = { metadata: { tags: ["slow", "raises-exception"] } };

describe("errorStopsRun (nbclient's rule)", () => {
  it("an error stops the run unless errors are allowed or the cell is tagged raises-exception", () => {
    expect(errorStopsRun({ status: "error" }, plain)).toBe(true);
    expect(errorStopsRun({ status: "error" }, plain, { allowErrors: true })).toBe(false);
    expect(errorStopsRun({ status: "error" }, tagged)).toBe(false);
    expect(errorStopsRun({ status: "error" }, { metadata: { tags: "raises-exception" } })).toBe(true);
  });

  it("a reply that is not an error never stops it", () => {
    expect(errorStopsRun({ status: "ok" }, plain)).toBe(false);
    expect(errorStopsRun({ status: "aborted" }, plain)).toBe(false);
  });
});
