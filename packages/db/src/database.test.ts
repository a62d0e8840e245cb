import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { databaseUnavailableReason, LOCAL_USER_ID, openDatabase, pingDatabase } from "./database";
import { createPrismaClient } from "./prisma-client";
import { REPO_ROOT } from "./paths";
import { tempDir } from "./test-support";
import { defaultDatabaseUrl, dialectOf, redact } from "./url";

describe("openDatabase", () => {
  it("creates CELLAR_HOME's database on first start and finds the same notebooks after a restart", async () => {
    const home = path.join(tempDir(), "not-yet-there");
    const url = defaultDatabaseUrl({ CELLAR_HOME: home });
    const first = await openDatabase(url, { log: () => {} });
    const nb = await first.notebooks.create(LOCAL_USER_ID, "survives restarts");
    await first.close();
    expect(existsSync(path.join(home, "cellar.db"))).toBe(true);

    const second = await openDatabase(url, { log: () => {} });
    try {
      expect((await second.notebooks.list(LOCAL_USER_ID)).map((n) => n.id)).toEqual([nb.id]);
      expect(await second.prisma.user.count()).toBe(1);
    } finally {
      await second.close();
    }
  });
});

describe("ping", () => {
  it("answers on an open database", async () => {
    const db = await openDatabase(`file:${path.join(tempDir(), "ping.db")}`, { log: () => {} });
    try {
      await expect(db.ping()).resolves.toBeUndefined();
    } finally {
      await db.close();
    }
  });

  it("fails with the reason, and no password, when PostgreSQL is unreachable", async () => {
    // Port 1 on localhost refuses at once: the real driver's failure, with no server to stop.
    const prisma = await createPrismaClient("postgresql://cellar:hunter2@127.0.0.1:1/cellar", "postgresql");
    try {
      const failure = pingDatabase(prisma);
      await expect(failure).rejects.toThrow("database ping failed: Can't reach database server at 127.0.0.1:1");
      await expect(failure).rejects.not.toThrow(/hunter2/);
    } finally {
      await prisma.$disconnect();
    }
  });

  it("gives up after its timeout when the database never answers", async () => {
    const silent = { $queryRaw: () => new Promise(() => {}) } as unknown as Parameters<typeof pingDatabase>[0];
    await expect(pingDatabase(silent, 50)).rejects.toThrow("database ping failed: the database did not answer within 50 ms");
  });
});

describe("database URLs", () => {
  it("defaults to DATABASE_URL, else cellar.db in CELLAR_HOME, else in <repo>/.cellar", () => {
    expect(defaultDatabaseUrl({ DATABASE_URL: "postgresql://db/cellar", CELLAR_HOME: "/x" })).toBe("postgresql://db/cellar");
    expect(defaultDatabaseUrl({ CELLAR_HOME: "/srv/cellar" })).toBe("file:/srv/cellar/cellar.db");
    expect(defaultDatabaseUrl({})).toBe(`file:${path.join(REPO_ROOT, ".cellar", "cellar.db")}`);
  });

  it("tells the dialect from the URL and refuses others", () => {
    expect(dialectOf("file:/tmp/a.db")).toBe("sqlite");
    expect(dialectOf("postgres://h/db")).toBe("postgresql");
    expect(dialectOf("postgresql://h/db")).toBe("postgresql");
    expect(() => dialectOf("mysql://u:secret@h/db")).toThrow(/unsupported database URL mysql:\/\/u:\*\*\*@h\/db/);
  });

  it("keeps passwords out of logged URLs", () => {
    expect(redact("postgresql://cellar:hunter2@db:5432/cellar")).toBe("postgresql://cellar:***@db:5432/cellar");
  });
});

describe("databaseUnavailableReason", () => {
  it("recognises a database that cannot be reached, with the reason, and nothing else", async () => {
    const prisma = await createPrismaClient("postgresql://postgres:secret@127.0.0.1:1/nope", "postgresql");
    const error = await prisma.notebook.findMany().catch((e: unknown) => e);
    await prisma.$disconnect();
    expect(databaseUnavailableReason(error)).toMatch(/Can't reach database server at 127\.0\.0\.1:1/);
    expect(databaseUnavailableReason(error)).not.toMatch(/secret/);
    expect(databaseUnavailableReason(new Error("Unique constraint failed"))).toBeNull();
  });
});
