import { describe, expect, it } from "vitest";
import { nextPackages, packagesImageName } from "./notebook-packages";

const install = (...requirements: string[]) => ({ op: "install" as const, requirements, requirementFiles: [] });

describe("a notebook's packages after a cell's pip commands", () => {
  it("start over the notebook's image, add in order, and replace a package asked for again in its place", () => {
    const first = nextPackages(null, "base", [install("tqdm", "six")]);
    expect(first).toEqual({ from: "base", pip: ["tqdm", "six"] });
    expect(nextPackages({ ...first!, lock: { x: 1 } }, "pip-whatever", [install("TQDM==4.66.1", "toolz")])).toEqual({
      from: "base",
      pip: ["TQDM==4.66.1", "six", "toolz"],
    });
  });

  it("keep the lock while the list is the same, add a requirements file's lines, and are none once all are uninstalled", () => {
    const current = { from: "base", pip: ["tqdm"], lock: { x: 1 } };
    expect(nextPackages(current, "pip-a", [install("tqdm")])).toEqual(current);
    expect(nextPackages(null, "base", [{ op: "install", requirements: [], requirementFiles: ["r.txt"] }], ["six", "toolz"])).toEqual({
      from: "base",
      pip: ["six", "toolz"],
    });
    expect(nextPackages(current, "pip-a", [{ op: "uninstall", names: ["TQDM"] }])).toBeNull();
  });

  it("refuse to uninstall what the notebook never installed, naming it", () => {
    expect(() => nextPackages({ from: "base", pip: ["tqdm"] }, "pip-a", [{ op: "uninstall", names: ["numpy"] }])).toThrow(
      "numpy is not one of this notebook's packages (tqdm), so it cannot be uninstalled: what the image base comes with stays.",
    );
  });

  it("name the same packages over the same image alike, whatever notebook asks", () => {
    expect(packagesImageName({ from: "base", pip: ["tqdm"] })).toBe(packagesImageName({ from: "base", pip: ["tqdm"] }));
    expect(packagesImageName({ from: "base", pip: ["tqdm"] })).toMatch(/^pip-[0-9a-f]{12}$/);
    expect(packagesImageName({ from: "base", pip: ["tqdm"] })).not.toBe(packagesImageName({ from: "networkx", pip: ["tqdm"] }));
  });
});
