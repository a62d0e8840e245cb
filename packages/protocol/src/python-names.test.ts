import { describe, expect, it } from "vitest";
import { pythonNameProblem } from "./python-names";

describe("pythonNameProblem", () => {
  it.each(["alpha", "_x", "x1", "Alpha_Beta", "match", "type", "_"])("accepts %s", (name) => {
    expect(pythonNameProblem(name)).toBeNull();
  });
  it.each(["1x", "", "a-b", "a b", "é", "x.y"])("refuses %j as not an identifier", (name) => {
    expect(pythonNameProblem(name)).toMatch(/not a Python identifier/);
  });
  it.each(["class", "None", "True", "lambda", "await"])("refuses the keyword %s", (name) => {
    expect(pythonNameProblem(name)).toBe("is a Python keyword");
  });
});
