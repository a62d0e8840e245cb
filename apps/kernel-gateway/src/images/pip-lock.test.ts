import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseImageSpec } from "./image-specs";
import {
  hashedRequirements,
  lockApplies,
  lockFromReport,
  parseLock,
  parseRequirementsText,
  pipCacheKey,
  pipFailure,
  specRequirements,
} from "./pip-lock";

const SHA = "c293e525e6fef9c20e8728fd4612df02a0aa31bb5fe91ecd93e123b1b7bffa73";
const lock = {
  name: "tq",
  requirements: ["tqdm"],
  index: "file:///opt/pypi/simple",
  packages: [{ name: "tqdm", version: "4.70.1", wheel: "tqdm-4.70.1-py3-none-any.whl", sha256: SHA }],
};
const item = (name: string, version: string, url = `file:///x/files/${name}-${version}-py3-none-any.whl`) => ({
  metadata: { name, version },
  download_info: { url, archive_info: { hashes: { sha256: SHA } } },
});
const ctx = { name: "tq", parent: "base", index: "file:///opt/pypi/simple", requirements: ["tqdm"] };

describe("pip specs", () => {
  it("takes requirement strings and a requirements file; refuses URLs, options and Debian packages mixed in", () => {
    expect(parseImageSpec({ name: "tq", description: "", from: "base", pip: ["tqdm>=4.60", "requests==2.*"] }, "tq.json").pip).toEqual([
      "tqdm>=4.60",
      "requests==2.*",
    ]);
    expect(() => parseImageSpec({ name: "tq", description: "", from: "base", pip: ["git+https://x/y"] }, "tq.json")).toThrow(
      /tq.json: pip.0: not a requirement like tqdm/,
    );
    expect(() => parseImageSpec({ name: "tq", description: "", from: "base", requirements: "../etc/passwd" }, "tq.json")).toThrow(
      /requirements: a relative path beside the spec/,
    );
    expect(() => parseImageSpec({ name: "tq", description: "", from: "base", packages: ["vim"], pip: ["tqdm"] }, "tq.json")).toThrow(
      /Debian `packages` or pip packages, not both/,
    );
    expect(() => parseImageSpec({ name: "tq", description: "", from: "base" }, "tq.json")).toThrow(/`packages`, `pip` or `requirements`/);
  });

  it("lets a root image add pip packages bookworm has too old, but not a layer's fields", () => {
    const debian = { suite: "bookworm", packages: ["python3"] };
    expect(parseImageSpec({ name: "base", description: "", debian, pip: ["ipywidgets>=8,<9"] }, "base.json").pip).toEqual([
      "ipywidgets>=8,<9",
    ]);
    expect(() => parseImageSpec({ name: "base", description: "", debian, from: "other" }, "base.json")).toThrow(
      /a root image, with optional `pip`/,
    );
    expect(() => parseImageSpec({ name: "base", description: "", debian, packages: ["vim"] }, "base.json")).toThrow(/a root image/);
  });

  it("reads a requirements file beside the spec, naming the line at fault", () => {
    expect(parseRequirementsText("# tools\ntqdm  # progress\n\nrequests>=2,<3\n", "r.txt")).toEqual(["tqdm", "requests>=2,<3"]);
    expect(() => parseRequirementsText("tqdm\n--index-url http://evil/simple\n", "r.txt")).toThrow(/r.txt line 2: "--index-url/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pip-spec-"));
    fs.writeFileSync(path.join(dir, "requirements.txt"), "dill\n");
    const spec = parseImageSpec(
      { name: "tq", description: "", from: "base", pip: ["tqdm"], requirements: "requirements.txt" },
      path.join(dir, "tq.json"),
    );
    expect(specRequirements(spec)).toEqual(["tqdm", "dill"]);
    fs.rmSync(path.join(dir, "requirements.txt"));
    expect(() => specRequirements(spec)).toThrow(/its requirements file requirements.txt is missing/);
  });
});

describe("pip locks", () => {
  it("parses a lock and says what is wrong with a bad one", () => {
    expect(parseLock(JSON.stringify(lock), "tq.lock.json")).toEqual(lock);
    expect(() => parseLock("{", "tq.lock.json")).toThrow(/tq.lock.json: not valid JSON.*delete it to resolve again/);
    const bad = { ...lock, packages: [{ ...lock.packages[0], sha256: "abc" }] };
    expect(() => parseLock(JSON.stringify(bad), "tq.lock.json")).toThrow(/packages.0.sha256: not a sha256/);
  });

  it("applies only to the requirements it was resolved from", () => {
    expect(lockApplies(lock, ["tqdm"])).toBe(true);
    expect(lockApplies(lock, ["tqdm", "dill"])).toBe(false);
    expect(lockApplies(null, ["tqdm"])).toBe(false);
  });

  it("is made from pip's report: one pinned, hashed wheel per distribution", () => {
    const made = lockFromReport({ install: [item("tqdm", "4.70.1")] }, [["numpy", "1.24.2", "/usr/lib/python3/dist-packages/numpy"]], ctx);
    expect(made).toEqual(lock);
    expect(hashedRequirements(made)).toBe(`tqdm==4.70.1 --hash=sha256:${SHA}\n`);
  });

  it("refuses a plan that replaces one of the parent's Debian packages, naming both versions", () => {
    expect(() =>
      lockFromReport(
        { install: [item("pandas", "2.2.3"), item("numpy", "2.1.0")] },
        [
          ["numpy", "1.24.2", "/usr/lib/python3/dist-packages/numpy-1.24.2.egg-info"],
          ["pandas", "1.5.3", "/usr/lib/python3/dist-packages/pandas"],
        ],
        ctx,
      ),
    ).toThrow(/pip would replace packages of the image base: pandas 1.5.3 .* by 2.2.3; numpy 1.24.2 .* by 2.1.0/);
  });

  it("refuses a source distribution and a wheel without a hash", () => {
    expect(() => lockFromReport({ install: [item("x", "1.0", "https://h/x-1.0.tar.gz")] }, [], ctx)).toThrow(/x 1.0 needs compiling/);
    const unhashed = { metadata: { name: "x", version: "1" }, download_info: { url: "https://h/x-1-py3-none-any.whl" } };
    expect(() => lockFromReport({ install: [unhashed] }, [], ctx)).toThrow(/gives no sha256 for x-1-py3-none-any.whl/);
  });

  it("keys the cache by requirements, lock and parent", () => {
    const k = pipCacheKey("parent1", ["tqdm"], lock);
    expect(pipCacheKey("parent1", ["tqdm"], lock)).toBe(k);
    expect(pipCacheKey("parent2", ["tqdm"], lock)).not.toBe(k);
    expect(pipCacheKey("parent1", ["tqdm>=4"], lock)).not.toBe(k);
    expect(pipCacheKey("parent1", ["tqdm"], { ...lock, packages: [{ ...lock.packages[0]!, version: "4.70.0" }] })).not.toBe(k);
  });
});

describe("pip's failures", () => {
  const index = "file:///opt/pypi/simple";
  const files = async (p: string) => (p === "multiprocess" ? ["multiprocess-0.70.19-py310-none-any.whl"] : null);
  const notFound = (req: string, versions = "none") =>
    `ERROR: Could not find a version that satisfies the requirement ${req} (from versions: ${versions})\nERROR: No matching distribution found for ${req}\n`;

  it("names a package the index lacks, one needing compiling, and a version that does not exist", async () => {
    expect(await pipFailure(notFound("no-such-pkg"), index, files)).toBe(`the package index ${index} has no package no-such-pkg`);
    expect(await pipFailure(notFound("multiprocess"), index, files)).toMatch(
      /^multiprocess needs compiling \(no wheel for Python 3.11 on this platform .* multiprocess-0.70.19-py310-none-any.whl\)/,
    );
    expect(await pipFailure(notFound("tqdm>=9", "4.70.1"), index, files)).toMatch(/no version of tqdm matches tqdm>=9 .* has 4.70.1/);
  });

  it("names an unreachable index and a conflict's causes", async () => {
    const unreachable =
      "WARNING: Retrying ... NewConnectionError('<pip._vendor.urllib3.connection.HTTPConnection>: Failed to establish a new connection: [Errno 111] Connection refused')\n" +
      notFound("tqdm");
    expect(await pipFailure(unreachable, "http://127.0.0.1:9/simple", files)).toMatch(
      /^the package index http:\/\/127.0.0.1:9\/simple is unreachable/,
    );
    const conflict =
      "ERROR: Cannot install a==1 and b==2 because these package versions have conflicting dependencies.\n\nThe conflict is caused by:\n    a 1 depends on c<1\n    b 2 depends on c>2\n\nTo fix this you could try to:\n";
    expect(await pipFailure(conflict, index, files)).toBe("the requirements conflict: a 1 depends on c<1 b 2 depends on c>2");
  });
});
