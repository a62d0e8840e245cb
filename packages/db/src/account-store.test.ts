import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EmailTakenError, InviteUnusableError } from "./account-store";
import { LOCAL_USER_ID, openDatabase, type Database } from "./database";
import { DIALECTS, useTestDatabase } from "./test-support";

const HOUR = 3_600_000;

/** What the gateway stores for a token: its hex SHA-256. */
const tokenId = () => createHash("sha256").update(randomBytes(32)).digest("hex");
const later = (ms = HOUR) => new Date(Date.now() + ms);

/** The reason an accept was refused, or "no error". */
async function refusal(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
    return "no error";
  } catch (error) {
    expect(error).toBeInstanceOf(InviteUnusableError);
    return (error as InviteUnusableError).reason;
  }
}

describe.each(DIALECTS)("account store on %s", (dialect) => {
  let db: Database;
  let url: string;
  useTestDatabase(dialect, (opened, openedUrl) => {
    db = opened;
    url = openedUrl;
  });

  let n = 0;
  const email = () => `person${++n}@example.com`;
  const invite = (expiresAt = later()) => db.accounts.createInvite({ id: tokenId(), createdById: LOCAL_USER_ID, expiresAt });
  const member = async (name = "Member") =>
    db.accounts.acceptInvite((await invite()).id, { name, email: email(), passwordHash: "$argon2id$member" });

  it("the local user is the instance's owner on a fresh database, with no password yet", async () => {
    expect(await db.accounts.getUser(LOCAL_USER_ID)).toMatchObject({ id: LOCAL_USER_ID, name: "Local user", email: null, role: "owner" });
    expect(await db.accounts.getUser("nobody")).toBeNull();
  });

  it("setCredentials gives the owner a password sign-in, replaces it, and refuses a taken email", async () => {
    const owner = await db.accounts.setCredentials(LOCAL_USER_ID, "owner@example.com", "$argon2id$one");
    expect(owner).toMatchObject({ id: LOCAL_USER_ID, email: "owner@example.com", role: "owner" });
    expect(await db.accounts.findUserByEmail("owner@example.com")).toMatchObject({ id: LOCAL_USER_ID, passwordHash: "$argon2id$one" });

    await db.accounts.setCredentials(LOCAL_USER_ID, "boss@example.com", "$argon2id$two");
    expect(await db.accounts.findUserByEmail("owner@example.com")).toBeNull();
    expect(await db.accounts.findUserByEmail("boss@example.com")).toMatchObject({ id: LOCAL_USER_ID, passwordHash: "$argon2id$two" });
    // The same email again is no conflict with oneself.
    await expect(db.accounts.setCredentials(LOCAL_USER_ID, "boss@example.com", "$argon2id$three")).resolves.toBeTruthy();

    const other = await member();
    const taken = db.accounts.setCredentials(other.id, "boss@example.com", "$argon2id$x");
    await expect(taken).rejects.toThrow(EmailTakenError);
    await expect(taken).rejects.toThrow("An account with this email already exists.");
    expect((await db.accounts.getUser(other.id))?.email).toBe(other.email);
    await expect(db.accounts.setCredentials("nobody", "n@example.com", "h")).rejects.toThrow(/no such user/);
  });

  it("keeps the owner's role and credentials when the database is opened again", async () => {
    await db.accounts.setCredentials(LOCAL_USER_ID, "again@example.com", "$argon2id$again");
    const reopened = await openDatabase(url, { log: () => {} });
    try {
      expect(await reopened.accounts.findUserByEmail("again@example.com")).toMatchObject({
        id: LOCAL_USER_ID,
        role: "owner",
        passwordHash: "$argon2id$again",
      });
    } finally {
      await reopened.close();
    }
  });

  describe("sessions", () => {
    it("answers a live session with its user", async () => {
      const id = tokenId();
      const expiresAt = later();
      await db.accounts.createSession({ id, userId: LOCAL_USER_ID, expiresAt });
      const session = await db.accounts.getSession(id);
      expect(session).toMatchObject({ id, userId: LOCAL_USER_ID, user: { id: LOCAL_USER_ID, role: "owner" } });
      expect(session?.expiresAt.getTime()).toBe(expiresAt.getTime());
      expect(await db.accounts.getSession(tokenId())).toBeNull();
    });

    it("an expired session is null and deleted", async () => {
      const id = tokenId();
      const expiresAt = later();
      await db.accounts.createSession({ id, userId: LOCAL_USER_ID, expiresAt });
      expect(await db.accounts.getSession(id, new Date(expiresAt.getTime() - 1))).not.toBeNull();
      expect(await db.accounts.getSession(id, expiresAt)).toBeNull();
      expect(await db.prisma.authSession.findUnique({ where: { id } })).toBeNull();
      // Gone for good: even a "now" before its expiry finds nothing.
      expect(await db.accounts.getSession(id, new Date(expiresAt.getTime() - HOUR))).toBeNull();
    });

    it("extendSession moves the expiry; deleteSession signs out", async () => {
      const id = tokenId();
      await db.accounts.createSession({ id, userId: LOCAL_USER_ID, expiresAt: later() });
      const extended = later(3 * HOUR);
      await db.accounts.extendSession(id, extended);
      expect(await db.accounts.getSession(id, later(2 * HOUR))).toMatchObject({ id, expiresAt: extended });
      await db.accounts.deleteSession(id);
      expect(await db.accounts.getSession(id)).toBeNull();
      // Both are no-ops on a session that is gone.
      await db.accounts.extendSession(id, later());
      await db.accounts.deleteSession(id);
      expect(await db.accounts.getSession(id)).toBeNull();
    });

    it("deleteUserSessions removes every session of one user and only that user's", async () => {
      const a = await member("A");
      const b = await member("B");
      const ids = { a: [tokenId(), tokenId()], b: [tokenId()] };
      for (const id of ids.a) await db.accounts.createSession({ id, userId: a.id, expiresAt: later() });
      for (const id of ids.b) await db.accounts.createSession({ id, userId: b.id, expiresAt: later() });
      expect(await db.accounts.deleteUserSessions(a.id)).toBe(2);
      for (const id of ids.a) expect(await db.accounts.getSession(id)).toBeNull();
      expect(await db.accounts.getSession(ids.b[0]!)).toMatchObject({ userId: b.id, user: { name: "B", role: "member" } });
      expect(await db.accounts.deleteUserSessions(a.id)).toBe(0);
    });
  });

  describe("invites", () => {
    it("are created, found, listed newest first with their creator's name, and revoked", async () => {
      const first = await invite();
      const second = await db.accounts.createInvite({ id: tokenId(), createdById: LOCAL_USER_ID, expiresAt: later(2 * HOUR) });
      expect(second).toMatchObject({ createdById: LOCAL_USER_ID, createdByName: "Local user", usedAt: null });
      expect(await db.accounts.getInvite(first.id)).toEqual(first);
      expect(await db.accounts.getInvite(tokenId())).toBeNull();
      const listed = (await db.accounts.listInvites(LOCAL_USER_ID)).map((i) => i.id);
      expect(listed.indexOf(second.id)).toBeLessThan(listed.indexOf(first.id));
      expect(await db.accounts.listInvites("nobody")).toEqual([]);
      expect(await db.accounts.deleteInvite(first.id)).toBe(true);
      expect(await db.accounts.deleteInvite(first.id)).toBe(false);
      expect(await db.accounts.getInvite(first.id)).toBeNull();
    });

    it("accepting one creates a member and marks it used; a second accept is refused as used", async () => {
      const inv = await invite();
      const now = new Date();
      const user = await db.accounts.acceptInvite(inv.id, { name: "Ada", email: "ada@example.com", passwordHash: "$argon2id$ada" }, now);
      expect(user).toMatchObject({ name: "Ada", email: "ada@example.com", role: "member" });
      expect(await db.accounts.getUser(user.id)).toEqual(user);
      expect(await db.accounts.findUserByEmail("ada@example.com")).toMatchObject({ id: user.id, passwordHash: "$argon2id$ada" });
      expect((await db.accounts.getInvite(inv.id))?.usedAt?.getTime()).toBe(now.getTime());
      expect((await db.prisma.invite.findUnique({ where: { id: inv.id } }))?.usedById).toBe(user.id);

      const again = db.accounts.acceptInvite(inv.id, { name: "Eve", email: "eve@example.com", passwordHash: "h" });
      expect(await refusal(again)).toBe("used");
      expect(await db.accounts.findUserByEmail("eve@example.com")).toBeNull();
    });

    it("an expired invite is refused as expired and an unknown one as unknown, creating nothing", async () => {
      const inv = await invite();
      const users = await db.prisma.user.count();
      const expired = db.accounts.acceptInvite(inv.id, { name: "Late", email: email(), passwordHash: "h" }, inv.expiresAt);
      expect(await refusal(expired)).toBe("expired");
      await expect(expired).rejects.toThrow("This invite link has expired.");
      expect(await refusal(db.accounts.acceptInvite(tokenId(), { name: "Who", email: email(), passwordHash: "h" }))).toBe("unknown");
      expect(await db.prisma.user.count()).toBe(users);
      expect((await db.accounts.getInvite(inv.id))?.usedAt).toBeNull();
    });

    it("of two accepts of one invite at once, exactly one makes an account", async () => {
      // Several invites raced at once, two accepts each, to give the race every chance.
      const invites = await Promise.all(Array.from({ length: 5 }, () => invite()));
      const users = await db.prisma.user.count();
      const results = await Promise.all(
        invites.flatMap((inv) =>
          [email(), email()].map((address) =>
            db.accounts
              .acceptInvite(inv.id, { name: address, email: address, passwordHash: "h" })
              .then((user) => ({ invite: inv.id, user }))
              .catch((error: unknown) => ({ invite: inv.id, error })),
          ),
        ),
      );
      for (const inv of invites) {
        const mine = results.filter((r) => r.invite === inv.id);
        expect(mine.filter((r) => "user" in r)).toHaveLength(1);
        const [lost] = mine.filter((r) => "error" in r);
        expect(lost && "error" in lost && lost.error).toMatchObject({ name: "InviteUnusableError", reason: "used" });
      }
      expect(await db.prisma.user.count()).toBe(users + invites.length);
    });

    it("a taken email is refused and leaves the invite usable", async () => {
      const taken = await member();
      const inv = await invite();
      const users = await db.prisma.user.count();
      const attempt = db.accounts.acceptInvite(inv.id, { name: "Copycat", email: taken.email!, passwordHash: "h" });
      await expect(attempt).rejects.toThrow(EmailTakenError);
      expect(await db.prisma.user.count()).toBe(users);
      expect((await db.accounts.getInvite(inv.id))?.usedAt).toBeNull();
      const user = await db.accounts.acceptInvite(inv.id, { name: "Honest", email: email(), passwordHash: "h" });
      expect(user.name).toBe("Honest");
    });

    it("stays used when the member it made is deleted", async () => {
      const inv = await invite();
      const user = await db.accounts.acceptInvite(inv.id, { name: "Gone", email: email(), passwordHash: "h" });
      await db.accounts.createSession({ id: tokenId(), userId: user.id, expiresAt: later() });
      await db.prisma.user.delete({ where: { id: user.id } });
      expect(await db.prisma.authSession.count({ where: { userId: user.id } })).toBe(0);
      expect((await db.accounts.getInvite(inv.id))?.usedAt).not.toBeNull();
      expect(await refusal(db.accounts.acceptInvite(inv.id, { name: "Again", email: email(), passwordHash: "h" }))).toBe("used");
    });
  });
});
