// A real pip layer: boltons (not tqdm, which base has from Debian, nor tabulate, whose layer e2e's
// save-image test must find only under its own names) from this machine's local wheel index over
// the built base image, through scripts/build-pip-layer.sh and the real content store, then a real
// sandboxed kernel on it
// (testing/real-stack.ts). Built once per cache: a later run finds the layer and only resolves.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openBlobStore } from "@cellar/fs-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CACHE, LOCAL_PIP_INDEX, pipStackUnavailable, REPO, startRealStack, type RealStack } from "../testing/real-stack";
import { loadImageCatalog, type ImageCatalog } from "./image-catalog";

const INDEX = LOCAL_PIP_INDEX;
const missing = pipStackUnavailable();
if (missing) console.log(`pip-layer.stack.test: skipped: ${missing}`);

describe.skipIf(!!missing)("a pip layer from the local wheel index", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-pip-specs-"));
  const spec = (name: string, body: object) => {
    const file = path.join(dir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify({ name, description: `test: ${name}`, from: "base", ...body }));
    return file;
  };
  const lines: string[] = [];
  let catalog: ImageCatalog;
  let stack: RealStack | undefined;

  beforeAll(async () => {
    fs.copyFileSync(path.join(REPO, "images/base.json"), path.join(dir, "base.json"));
    catalog = await loadImageCatalog({
      cacheDir: CACHE,
      store: openBlobStore({ localDir: path.join(CACHE, "cas") }),
      specsDir: dir,
      build: false,
      pipIndex: `file://${INDEX}`,
      log: (l) => lines.push(l),
    });
  });
  afterAll(async () => {
    await stack?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    // The uploads live in the shared cache: left there, every later gateway on it (e2e's) would
    // list them in its image picker.
    for (const name of ["pip-boltons", "boltons-uploaded"])
      fs.rmSync(path.join(CACHE, "images/uploaded", name), { recursive: true, force: true });
  }, 60_000);

  it("two builds of one spec at once are one build; the lock lands beside the spec; the same spec again builds nothing", async () => {
    const file = spec("pip-boltons", { pip: ["boltons"] });
    const [a, b] = await Promise.all([catalog.build(file), catalog.build(file)]);
    expect(a.imageId).toBe(b.imageId);
    expect(lines.filter((l) => l.includes("resolving boltons"))).toHaveLength(1);
    expect(lines.some((l) => l.includes("waiting for that build"))).toBe(true);
    expect(a).toMatchObject({ parent: "base", packages: [expect.stringMatching(/^boltons==\d/)] });
    expect(a.layerBytes).toBeGreaterThan(0);
    const lock = JSON.parse(fs.readFileSync(path.join(dir, "pip-boltons.lock.json"), "utf8"));
    expect(lock.packages).toEqual([
      {
        name: "boltons",
        version: expect.any(String),
        wheel: expect.stringMatching(/^boltons-.*\.whl$/),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);

    lines.length = 0;
    const again = await catalog.build(file);
    expect(again.imageId).toBe(a.imageId);
    expect(lines).toEqual([]);
  }, 180_000);

  it("a missing package, a conflict with base's Debian numpy, a wheel-less package and an unreachable index fail naming them, registering nothing", async () => {
    await expect(catalog.build(spec("pip-missing", { pip: ["no-such-package-cellar"] }))).rejects.toThrow(
      `the package index file://${INDEX} has no package no-such-package-cellar`,
    );
    await expect(catalog.build(spec("pip-numpy", { pip: ["numpy>=2"] }))).rejects.toThrow(
      /pip would replace packages of the image base: numpy 1\.\d+\.\d+ \(in \/usr\/lib\/python3\/dist-packages.*\) by 2\./,
    );
    // An index whose one project has only a source distribution (nothing here lacks a wheel).
    const sdistIndex = path.join(dir, "sdist-index");
    fs.mkdirSync(path.join(sdistIndex, "simple/onlysource"), { recursive: true });
    fs.mkdirSync(path.join(sdistIndex, "files"));
    fs.writeFileSync(path.join(sdistIndex, "files/onlysource-1.0.tar.gz"), "not really a tarball");
    fs.writeFileSync(
      path.join(sdistIndex, "simple/onlysource/index.html"),
      '<html><body><a href="../../files/onlysource-1.0.tar.gz">onlysource-1.0.tar.gz</a></body></html>',
    );
    const sdistOnly = await loadImageCatalog({
      cacheDir: CACHE,
      store: openBlobStore({ localDir: path.join(CACHE, "cas") }),
      specsDir: dir,
      pipIndex: `file://${sdistIndex}/simple`,
      log: () => {},
    });
    await expect(sdistOnly.build(spec("pip-compile", { pip: ["onlysource"] }))).rejects.toThrow(
      /^onlysource needs compiling \(no wheel for Python 3.11 on this platform at file:.*; it has onlysource-1.0.tar.gz\)$/,
    );
    const offline = await loadImageCatalog({
      cacheDir: CACHE,
      store: openBlobStore({ localDir: path.join(CACHE, "cas") }),
      specsDir: dir,
      pipIndex: "http://127.0.0.1:9/simple",
      log: () => {},
    });
    await expect(offline.build(spec("pip-offline", { pip: ["polars"] }))).rejects.toThrow(
      /the package index http:\/\/127.0.0.1:9\/simple is unreachable/,
    );
    for (const name of ["pip-missing", "pip-numpy", "pip-compile"]) {
      expect(catalog.get(name)).toBeUndefined();
      expect(fs.existsSync(path.join(dir, `${name}.lock.json`))).toBe(false);
    }
    for (const name of ["pip-numpy", "pip-compile", "pip-offline", "pip-missing"]) fs.rmSync(path.join(dir, `${name}.json`));
  }, 240_000);

  it("a layer over the size limit is refused with both sizes", async () => {
    const small = await loadImageCatalog({
      cacheDir: CACHE,
      store: openBlobStore({ localDir: path.join(CACHE, "cas") }),
      specsDir: dir,
      pipIndex: `file://${INDEX}`,
      maxLayerMb: 0.01,
      log: () => {},
    });
    const file = spec("pip-big", { pip: ["boltons==26.2.0"] });
    await expect(small.build(file)).rejects.toThrow(/the layer is [\d.]+ MB, over the limit of 0\.0 MB \(CELLAR_IMAGE_LAYER_MAX_MB\)/);
    expect(small.get("pip-big")).toBeUndefined();
    fs.rmSync(file);
    fs.rmSync(path.join(dir, "pip-big.lock.json"), { force: true });
  }, 180_000);

  it("a sandboxed kernel on the layer imports boltons, and base's numpy is still Debian's", async () => {
    stack = await startRealStack({ specsDir: dir, pipIndex: `file://${INDEX}` });
    const nb = await stack.db.notebooks.create(stack.db.localUserId, "pip");
    const source =
      "import boltons, numpy\nfrom boltons.iterutils import chunked\nprint(boltons.__file__)\nprint(numpy.__file__)\nprint(chunked(range(4), 2))";
    await stack.db.notebooks.update(nb.id, { image: "pip-boltons", cells: [{ id: "a", cell_type: "code", source, metadata: {} }] });
    const outcome = await stack.gateway.runs.run({ notebookId: nb.id, userId: stack.db.localUserId, timeoutMs: 120_000 });
    expect(outcome).toMatchObject({ status: "succeeded" });
    const cell = (await stack.db.notebooks.get(outcome.executedNotebookId!))!.cells[0]!;
    const printed = cell.outputs.map((o) => (o.output_type === "stream" ? o.text : "")).join("");
    expect(printed).toBe(
      "/usr/local/lib/python3.11/dist-packages/boltons/__init__.py\n/usr/lib/python3/dist-packages/numpy/__init__.py\n[[0, 1], [2, 3]]\n",
    );
  }, 240_000);

  it("POST /api/images builds an uploaded spec (cached: at once) and returns its lock; GET /api/images lists it; a bad one is 422 naming the package", async () => {
    const call = (method: string, body?: object) =>
      fetch(`${stack!.url}/api/images`, {
        method,
        headers: { authorization: `Bearer ${stack!.token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    const spec = { name: "pip-boltons", description: "test: pip-boltons", from: "base", pip: ["boltons"] };
    const lock = fs.readFileSync(path.join(dir, "pip-boltons.lock.json"), "utf8");
    const res = await call("POST", { spec, lock });
    expect(res.status).toBe(200);
    const built = await res.json();
    expect(built).toMatchObject({
      image: { name: "pip-boltons", parent: "base", packages: [expect.stringMatching(/^boltons==/)] },
      lock,
      log: [],
    });
    const listed = await (await call("GET")).json();
    expect(listed).toContainEqual(expect.objectContaining({ name: "pip-boltons", imageId: built.image.imageId, parent: "base" }));
    const bad = await call("POST", { spec: { ...spec, name: "pip-nope", pip: ["no-such-package-cellar"] } });
    expect(bad.status).toBe(422);
    expect((await bad.json()).error).toMatch(/has no package no-such-package-cellar/);
  }, 120_000);

  it("an image built through the API is there again after a restart (a notebook chose it by name); a failed one is not", async () => {
    const spec = { name: "boltons-uploaded", description: "test: uploaded, then a restart", from: "base", pip: ["boltons"] };
    const lock = fs.readFileSync(path.join(dir, "pip-boltons.lock.json"), "utf8");
    const res = await fetch(`${stack!.url}/api/images`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack!.token}`, "content-type": "application/json" },
      body: JSON.stringify({ spec, lock }),
    });
    expect(res.status).toBe(200);
    const built = (await res.json()) as { image: { imageId: string } };
    // What main.ts does at start, on the same cache and store; the upload is not in the specs dir.
    const restarted = await loadImageCatalog({
      cacheDir: CACHE,
      store: openBlobStore({ localDir: path.join(CACHE, "cas") }),
      specsDir: dir,
      pipIndex: `file://${INDEX}`,
      log: () => {},
    });
    expect(restarted.get("boltons-uploaded")).toMatchObject({ imageId: built.image.imageId, parent: "base", pip: true });
    expect(restarted.get("pip-nope")).toBeUndefined();
    expect(fs.existsSync(path.join(CACHE, "images/uploaded/pip-nope"))).toBe(false);
  }, 120_000);
});
