import { afterEach, describe, expect, it } from "vitest";
import { apiRoutes } from "@cellar/protocol";
import { startTestApp, type TestApp } from "./test-app";

let gateway: TestApp | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

describe("readiness (GET /api/ready)", () => {
  it("answers 200 without the token while the database answers", async () => {
    gateway = await startTestApp({ deps: (db) => ({ pingDatabase: () => db.ping() }) });
    const res = await fetch(gateway.base + apiRoutes.ready.url);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("answers 503 with the reason while the database does not, and 200 again once it does", async () => {
    let down = true;
    gateway = await startTestApp({
      deps: (db) => ({
        pingDatabase: async () => {
          if (down) throw new Error("database ping failed: Can't reach database server at db:5432");
          await db.ping();
        },
      }),
    });
    const res = await fetch(gateway.base + apiRoutes.ready.url);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "Not ready: database ping failed: Can't reach database server at db:5432" });
    // Liveness does not follow the database: a restart would not bring it back.
    expect((await fetch(gateway.base + apiRoutes.health.url)).status).toBe(200);
    down = false;
    expect((await fetch(gateway.base + apiRoutes.ready.url)).status).toBe(200);
  });

  it("answers 503 while the replicas' Redis cannot be used", async () => {
    let problem: string | null = "Redis at redis://127.0.0.1:6379 is reconnecting (connect ECONNREFUSED 127.0.0.1:6379)";
    gateway = await startTestApp({ deps: (db) => ({ pingDatabase: () => db.ping(), redisProblem: () => problem }) });
    const res = await fetch(gateway.base + apiRoutes.ready.url);
    expect(res.status).toBe(503);
    expect((await res.json()).error).toBe(`Not ready: ${problem}`);
    problem = null;
    expect((await fetch(gateway.base + apiRoutes.ready.url)).status).toBe(200);
  });
});
