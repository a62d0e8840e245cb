import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { startTestApp, TEST_TOKEN as token, type TestApp } from "./test-app";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-frame-"));
fs.writeFileSync(path.join(dir, "frame.html"), "<!doctype html><div id=root></div>");
fs.writeFileSync(path.join(dir, "frame.js"), "/* frame */");

/** A GET with a Host of our choosing (fetch does not let a caller set it). */
function getWithHost(base: string, p: string, host: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get(new URL(p, base), { headers: { host } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, headers: res.headers });
      })
      .on("error", reject);
  });
}

describe("the output frame at the gateway's own path", () => {
  let gateway: TestApp;
  beforeAll(async () => {
    gateway = await startTestApp({ webFiles: { "index.html": "<h1>app</h1>" }, deps: () => ({ outputFrames: { dir } }) });
  });
  // A close waits for the connections; under a loaded CI machine that took over the default 10 s.
  afterAll(() => gateway.close());

  it("is served to anyone (a frame's requests carry no cookie), with a policy of its own", async () => {
    const res = await fetch(`${gateway.base}/output-frame/frame.html`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("root");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("connect-src 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).not.toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-frame-options")).toBeNull();
    // Loaded from an opaque origin: a same-origin resource policy would block its own script.
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const script = await fetch(`${gateway.base}/output-frame/frame.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-security-policy")).toBe(csp);
    await script.arrayBuffer();
  });

  it("keeps its policy on a revalidation's 304, which a browser merges into the cached page", async () => {
    const first = await fetch(`${gateway.base}/output-frame/frame.html`);
    await first.text();
    const etag = first.headers.get("etag")!;
    expect(etag).toBeTruthy();
    const again = await fetch(`${gateway.base}/output-frame/frame.html`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    // helmet's answer here (frame-ancestors 'none', x-frame-options) blocked every frame reloaded
    // from the cache: Chromium showed "refused to connect" in them.
    expect(again.headers.get("content-security-policy")).toBe(first.headers.get("content-security-policy"));
    expect(again.headers.get("x-frame-options")).toBeNull();
  });

  it("answers nothing else there: 404 for a missing file, 405 for a write", async () => {
    const missing = await fetch(`${gateway.base}/output-frame/nope.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-security-policy")).toContain("connect-src 'none'");
    await missing.arrayBuffer();
    const write = await fetch(`${gateway.base}/output-frame/frame.html`, { method: "POST" });
    expect(write.status).toBe(405);
    await write.arrayBuffer();
    // Not a way around the login for the app's own files.
    const around = await fetch(`${gateway.base}/output-frame/../index.html`, { redirect: "manual" });
    expect(around.status).not.toBe(200);
    await around.arrayBuffer();
  });

  it("leaves the app's pages their policy: frames from here only, never framed", async () => {
    const page = await fetch(`${gateway.base}/`, { headers: { authorization: `Bearer ${token}` } });
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("frame-src 'self'");
    expect(page.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    await page.arrayBuffer();
  });
});

describe("the output frame on an origin of its own (CELLAR_OUTPUT_ORIGIN)", () => {
  const origin = "https://outputs.example.test";
  let gateway: TestApp;
  beforeAll(async () => {
    gateway = await startTestApp({ deps: () => ({ outputFrames: { dir, origin, appOrigin: "https://cellar.example.test" } }) });
  });
  afterAll(() => gateway.close());

  it("sends the app's frame requests there and lets the pages frame it", async () => {
    const res = await fetch(`${gateway.base}/output-frame/frame.html?x=1`, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${origin}/output-frame/frame.html?x=1`);
    await res.arrayBuffer();
    const page = await fetch(`${gateway.base}/api/health`);
    expect(page.headers.get("content-security-policy")).toContain(`frame-src 'self' ${origin}`);
    await page.arrayBuffer();
  });

  it("serves them when asked at that host, framed only by the app's origin", async () => {
    const res = await getWithHost(gateway.base, "/output-frame/frame.html", "outputs.example.test");
    expect(res.status).toBe(200);
    expect(res.headers["content-security-policy"]).toContain("frame-ancestors https://cellar.example.test");
  });
});

describe("CELLAR_OUTPUT_ORIGIN", () => {
  it("is an origin or nothing", () => {
    expect(loadConfig({}).outputOrigin).toBeUndefined();
    expect(loadConfig({ CELLAR_OUTPUT_ORIGIN: "https://out.example.com/" }).outputOrigin).toBe("https://out.example.com");
    expect(() => loadConfig({ CELLAR_OUTPUT_ORIGIN: "out.example.com" })).toThrow(/not a URL/);
    expect(() => loadConfig({ CELLAR_OUTPUT_ORIGIN: "https://out.example.com/frames" })).toThrow(/must be an origin/);
    expect(loadConfig({}).outputFrameDir).toMatch(/packages\/ui\/dist\/output-frame$/);
  });
});
