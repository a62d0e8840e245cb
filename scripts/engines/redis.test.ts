import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { startRedis } from "./redis";

describe("startRedis", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-engine-redis-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("serves on a free port with pub/sub (what socket.io's adapter uses), keeps data in its directory, and stops", async () => {
    const redis = await startRedis({ dir });
    const pub = new Redis(redis.url);
    const sub = new Redis(redis.url);
    try {
      await pub.set("k", "v");
      await sub.subscribe("room");
      const got = new Promise<string>((resolve) => sub.on("message", (_channel, message) => resolve(message)));
      await pub.publish("room", "hello");
      expect(await got).toBe("hello");
    } finally {
      pub.disconnect();
      sub.disconnect();
      await redis.stop();
    }
    expect(fs.readdirSync(dir)).toContain("appendonlydir");

    const again = await startRedis({ dir });
    const client = new Redis(again.url);
    try {
      expect(await client.get("k")).toBe("v");
    } finally {
      client.disconnect();
      await again.stop();
    }
  });

  it("stops a server a killed launcher left running in its directory (found by its pid file, though redis renames its process)", async () => {
    const leftover = await startRedis({ dir });
    // No stop(): as if the launcher had been killed with kill -9.
    const next = await startRedis({ dir });
    try {
      const pid = Number(fs.readFileSync(path.join(dir, "redis.pid"), "utf8").split("\n")[0]);
      expect(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8")).toContain(`:${next.port}`);
      const old = new Redis(leftover.url, { retryStrategy: () => null, maxRetriesPerRequest: 0 });
      old.on("error", () => {});
      await expect(old.ping()).rejects.toThrow();
      old.disconnect();
    } finally {
      await next.stop();
      await leftover.stop(); // a no-op unless the start above failed to stop it
    }
  });

  it("reports a server that cannot start, with its log", async () => {
    await expect(startRedis({ dir, binary: "/bin/false" })).rejects.toThrow(/redis exited \(1\); see .*redis\.log/);
  });
});
