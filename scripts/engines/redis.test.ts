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

  it("reports a server that cannot start, with its log", async () => {
    await expect(startRedis({ dir, binary: "/bin/false" })).rejects.toThrow(/redis exited \(1\); see .*redis\.log/);
  });
});
