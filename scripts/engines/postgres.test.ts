import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startPostgres } from "./postgres";

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("startPostgres", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-engine-pg-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("initdbs, serves the database on a free port, keeps its data across a restart in the same directory, and stops", async () => {
    const first = await startPostgres({ dir, durable: false });
    expect(first.url).toBe(`postgresql://postgres@127.0.0.1:${first.port}/cellar`);
    await query(first.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
    await first.stop();
    await expect(query(first.url, "SELECT 1")).rejects.toThrow(/ECONNREFUSED/);

    const second = await startPostgres({ dir, durable: false });
    try {
      expect(await query(second.url, "SELECT v FROM kept")).toEqual([{ v: "still here" }]);
    } finally {
      await second.stop();
    }
  });

  it("stops a server a killed launcher left running in the directory, then starts its own", async () => {
    const leftover = await startPostgres({ dir, durable: false, database: "other" });
    // No stop(): as if the launcher had been killed with kill -9.
    const next = await startPostgres({ dir, durable: false, database: "other" });
    try {
      await expect(query(leftover.url, "SELECT 1")).rejects.toThrow();
      expect(await query(next.url, "SELECT current_database() AS db")).toEqual([{ db: "other" }]);
    } finally {
      await next.stop();
      await leftover.stop(); // pg_ctl stop of the same directory: a no-op once it is down
    }
  });
});
