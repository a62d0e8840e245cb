import { describe, expect, it } from "vitest";
import { BuildLogs } from "./build-logs";

describe("BuildLogs", () => {
  it("keeps a build's last lines, counts those cut off, and closes once", () => {
    const logs = new BuildLogs({ maxLines: 3, now: () => new Date("2026-12-05T08:00:00Z") });
    const entry = logs.begin("tabulate");
    for (const n of [1, 2, 3, 4, 5]) entry.add(`line ${n}`);
    expect(logs.get("tabulate")).toMatchObject({ status: "building", finishedAt: null, lines: ["line 3", "line 4", "line 5"], dropped: 2 });
    entry.end("failed", "pip: no matching distribution");
    entry.end("built");
    expect(logs.get("tabulate")).toMatchObject({
      status: "failed",
      finishedAt: "2026-12-05T08:00:00.000Z",
      lines: ["line 4", "line 5", "pip: no matching distribution"],
    });
  });

  it("a new build of a name starts its log afresh, and the stalest image's log goes past the limit", () => {
    const logs = new BuildLogs({ maxImages: 2 });
    logs.begin("a").add("first a");
    logs.begin("b").add("b");
    logs.begin("a").add("second a");
    logs.begin("c");
    expect(logs.get("b")).toBeUndefined();
    expect(logs.get("a")?.lines).toEqual(["second a"]);
    expect(logs.get("c")?.lines).toEqual([]);
  });
});
