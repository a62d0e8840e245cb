import fs from "node:fs";
import http from "node:http";
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

describe("cellar image", () => {
  it("build refuses a missing or invalid spec file before contacting the gateway", async () => {
    const missing = await cellar("--url", "http://127.0.0.1:9", "--token", "t", "image", "build", path.join(tmp, "nope.json"));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/Cannot read .*nope\.json: no such file/);
    fs.writeFileSync(path.join(tmp, "bad.json"), "{");
    const bad = await cellar("--url", "http://127.0.0.1:9", "--token", "t", "image", "build", path.join(tmp, "bad.json"));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/bad\.json is not valid JSON/);
  });

  it("build sends the spec with its requirements file and lock, and writes the lock the gateway returns beside it", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "spec-"));
    const file = path.join(dir, "tq.json");
    fs.writeFileSync(file, JSON.stringify({ name: "tq", description: "", from: "base", requirements: "req.txt" }));
    fs.writeFileSync(path.join(dir, "req.txt"), "tqdm\n");
    let sent: unknown;
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        sent = JSON.parse(body);
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            image: { name: "tq", description: "", imageId: "ab".repeat(32), parent: "base", layerBytes: 2 ** 20 },
            lock: '{"x":1}',
            log: ["gateway: image tq: resolving tqdm…"],
          }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const r = await cellar("--url", `http://127.0.0.1:${port}`, "--token", "t", "image", "build", file);
    server.close();
    expect(r.code).toBe(0);
    expect(sent).toEqual({ spec: { name: "tq", description: "", from: "base", requirements: "req.txt" }, requirements: "tqdm\n" });
    expect(fs.readFileSync(path.join(dir, "tq.lock.json"), "utf8")).toBe('{"x":1}');
    expect(r.out).toBe(`tq ${"ab".repeat(32)} 1.0 MB`);
    expect(r.err).toContain("image tq: resolving tqdm…");
  });
});
