import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { LOCAL_USER_ID, type Database } from "./database";
import { DIALECTS, useTestDatabase } from "./test-support";

/** What the gateway stores for a secret: its hex SHA-256. */
const tokenId = () => createHash("sha256").update(randomBytes(32)).digest("hex");

describe.each(DIALECTS)("access token store on %s", (dialect) => {
  let db: Database;
  useTestDatabase(dialect, (opened) => (db = opened));

  const member = async () => {
    const invite = await db.accounts.createInvite({
      id: tokenId(),
      createdById: LOCAL_USER_ID,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    return db.accounts.acceptInvite(invite.id, {
      name: "Ada",
      email: `ada-${tokenId().slice(0, 8)}@example.com`,
      passwordHash: "$argon2id$x",
    });
  };

  it("a token signs in its user until it is revoked; its use is noted", async () => {
    const id = tokenId();
    const made = await db.accessTokens.create({ id, userId: LOCAL_USER_ID, name: "laptop", expiresAt: null });
    expect(made).toMatchObject({ id, name: "laptop", lastUsedAt: null, expiresAt: null });
    const now = new Date();
    expect(await db.accessTokens.use(id, now)).toMatchObject({ id: LOCAL_USER_ID, role: "owner" });
    expect((await db.accessTokens.list(LOCAL_USER_ID)).find((t) => t.id === id)?.lastUsedAt?.getTime()).toBe(now.getTime());
    expect(await db.accessTokens.remove(LOCAL_USER_ID, id)).toBe(true);
    expect(await db.accessTokens.use(id)).toBeNull();
    expect(await db.accessTokens.remove(LOCAL_USER_ID, id)).toBe(false);
  });

  it("an expired token signs nobody in, and an unknown one neither", async () => {
    const id = tokenId();
    await db.accessTokens.create({ id, userId: LOCAL_USER_ID, name: "old", expiresAt: new Date(Date.now() - 1000) });
    expect(await db.accessTokens.use(id)).toBeNull();
    expect(await db.accessTokens.use(tokenId())).toBeNull();
  });

  it("lists only the user's own tokens, newest first, and cannot revoke another's", async () => {
    const ada = await member();
    const first = await db.accessTokens.create({ id: tokenId(), userId: ada.id, name: "first", expiresAt: null });
    await new Promise((r) => setTimeout(r, 5));
    const second = await db.accessTokens.create({
      id: tokenId(),
      userId: ada.id,
      name: "second",
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    expect((await db.accessTokens.list(ada.id)).map((t) => t.name)).toEqual(["second", "first"]);
    expect(await db.accessTokens.remove(LOCAL_USER_ID, first.id)).toBe(false);
    expect(await db.accessTokens.use(first.id)).toMatchObject({ id: ada.id });
    expect(second.expiresAt).not.toBeNull();
  });
});
