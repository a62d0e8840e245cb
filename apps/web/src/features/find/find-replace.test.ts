import { describe, expect, it } from "vitest";
import { compileQuery, findMatches, replaceAll, replaceMatch } from "./find-replace";

const cells = [
  { id: "a", source: "df = load()\ndf.head()" },
  { id: "b", source: "# About DF" },
  { id: "c", source: "x = 1" },
];
const plain = { caseSensitive: false, regex: false };

describe("find and replace across cells", () => {
  it("finds every match in notebook order, case-insensitively by default", () => {
    expect(findMatches(cells, "df", plain)).toEqual([
      { cellId: "a", from: 0, to: 2 },
      { cellId: "a", from: 12, to: 14 },
      { cellId: "b", from: 8, to: 10 },
    ]);
    expect(findMatches(cells, "df", { ...plain, caseSensitive: true })).toHaveLength(2);
  });

  it("treats the query literally unless regex is on", () => {
    expect(findMatches(cells, "load()", plain)).toEqual([{ cellId: "a", from: 5, to: 11 }]);
    expect(findMatches(cells, "d[f]", plain)).toEqual([]);
    expect(findMatches(cells, "d[f]", { ...plain, regex: true })).toHaveLength(3);
  });

  it("says why a regex does not compile and finds nothing with it", () => {
    const r = compileQuery("(", { caseSensitive: false, regex: true });
    expect(r.ok).toBe(false);
    expect(findMatches(cells, "(", { caseSensitive: false, regex: true })).toEqual([]);
  });

  it("skips empty regex matches", () => {
    expect(findMatches(cells, "q*", { caseSensitive: false, regex: true })).toEqual([]);
  });

  it("replaces one match, with groups in regex mode", () => {
    const [first] = findMatches(cells, "df", plain);
    expect(replaceMatch(cells[0].source, first, "df", "frame", plain)).toBe("frame = load()\ndf.head()");
    const m = findMatches(cells, "(\\w+) = 1", { caseSensitive: false, regex: true })[0];
    expect(replaceMatch(cells[2].source, m, "(\\w+) = 1", "$1 = 2", { caseSensitive: false, regex: true })).toBe("x = 2");
  });

  it("replaces all matches in all cells and returns only the cells that changed", () => {
    const changed = replaceAll(cells, "df", "frame", plain);
    expect([...changed.keys()]).toEqual(["a", "b"]);
    expect(changed.get("a")).toBe("frame = load()\nframe.head()");
    expect(changed.get("b")).toBe("# About frame");
    // `$` is literal outside regex mode.
    expect(replaceAll(cells, "x", "$&$&", plain).get("c")).toBe("$&$& = 1");
  });
});
