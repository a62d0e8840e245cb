import { describe, expect, it } from "vitest";
import { notebookPackagesOf, requirementName, withNotebookPackages } from "./notebook-packages";

describe("a notebook's packages in its metadata", () => {
  it("are read back as written, beside what else the metadata holds", () => {
    const metadata = withNotebookPackages({ kernelspec: { name: "python3" }, cellar: { other: 1 } }, { from: "base", pip: ["tqdm"] });
    expect(metadata).toEqual({ kernelspec: { name: "python3" }, cellar: { other: 1, image: { from: "base", pip: ["tqdm"] } } });
    expect(notebookPackagesOf(metadata)).toEqual({ from: "base", pip: ["tqdm"] });
  });

  it("are removed whole, and a hand-edited value that does not parse counts as none", () => {
    expect(withNotebookPackages({ cellar: { image: { from: "base", pip: ["x"] } } }, null)).toEqual({});
    expect(notebookPackagesOf({ cellar: { image: { from: "Base!", pip: [] } } })).toBeNull();
    expect(notebookPackagesOf(undefined)).toBeNull();
  });

  it("name a requirement's distribution the way pip compares them", () => {
    expect(requirementName("Typing_Extensions>=4")).toBe("typing-extensions");
    expect(requirementName("requests[socks] ==2.31")).toBe("requests");
  });
});
