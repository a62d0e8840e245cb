import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pairParameters } from "./commands";
import { resolveConnection, UsageError } from "./connection";
import { main } from "./main";

async function cellar(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["node", "cellar", ...args], { out: (l) => out.push(l), err: (l) => err.push(l), colour: false });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-cli-"));

describe("resolveConnection", () => {
  it("takes flags over the environment and reads the token from the URL npm start prints", () => {
    expect(resolveConnection({}, { CELLAR_URL: "http://h:1/?token=abc" })).toEqual({ baseUrl: "http://h:1", token: "abc" });
    expect(resolveConnection({ url: "http://x:2/", token: "f" }, { CELLAR_URL: "http://h:1", CELLAR_TOKEN: "e" })).toEqual({
      baseUrl: "http://x:2",
      token: "f",
    });
    expect(resolveConnection({}, { CELLAR_TOKEN: "e" })).toEqual({ baseUrl: "http://127.0.0.1:8800", token: "e" });
  });

  it("says how to give a token when there is none, and refuses a URL that is not one", () => {
    expect(() => resolveConnection({}, {})).toThrow(/--token.*CELLAR_TOKEN/);
    expect(() => resolveConnection({ url: "not a url", token: "t" }, {})).toThrow(UsageError);
  });
});

describe("pairParameters", () => {
  it("pairs -p words into names and Python literals", () => {
    expect(pairParameters(["n", "5", "label", "run 1", "flag", "True"])).toEqual({ n: "5", label: '"run 1"', flag: "True" });
    expect(() => pairParameters(["n"])).toThrow(/-p takes a name and a value/);
  });
});

describe("cellar", () => {
  it("refuses an invalid notebook before contacting the gateway, naming cell and field", async () => {
    const file = path.join(tmp, "bad.ipynb");
    fs.writeFileSync(
      file,
      JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ id: "x", cell_type: "code", metadata: {}, source: "1" }] }),
    );
    // No gateway listens on this port: the error must come from the file check.
    const r = await cellar("--url", "http://127.0.0.1:9/", "--token", "t", "run", file, "-o", path.join(tmp, "out.ipynb"));
    expect(r.code).toBe(2);
    expect(r.err).toContain('cell 1 (code, id "x"): missing required field "outputs"');
    expect(fs.existsSync(path.join(tmp, "out.ipynb"))).toBe(false);
  });

  it("says when the file is missing or the gateway cannot be reached", async () => {
    expect((await cellar("--token", "t", "import", path.join(tmp, "missing.ipynb"))).err).toMatch(
      /Cannot read .*missing\.ipynb: no such file/,
    );
    const file = path.join(tmp, "ok.ipynb");
    fs.writeFileSync(file, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }));
    const r = await cellar("--url", "http://127.0.0.1:9", "--token", "t", "import", file);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Cannot reach the Cellar gateway at http:\/\/127\.0\.0\.1:9/);
  });

  it("requires -o for run and explains -p", async () => {
    const r = await cellar("--token", "t", "run", "x.ipynb");
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--output/);
    expect((await cellar("run", "--help")).out).toMatch(/-p, --parameter <name value\.\.\.>/);
  });
});
