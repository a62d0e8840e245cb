import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EmailTakenError, InviteUnusableError } from "./account-store";
import { LOCAL_USER_ID, type Database } from "./database";
import { IdentityTakenError } from "./identity-store";
import { DIALECTS, useTestDatabase } from "./test-support";

const tokenId = () => createHash("sha256").update(randomBytes(32)).digest("hex");
const ISSUER = "https://id.example.com";
const subject = () => `sub-${tokenId().slice(0, 10)}`;

describe.each(DIALECTS)("identity store on %s", (dialect) => {
  let db: Database;
  useTestDatabase(dialect, (opened) => (db = opened));

  const invite = (expiresAt = new Date(Date.now() + 3_600_000)) =>
    db.accounts.createInvite({ id: tokenId(), createdById: LOCAL_USER_ID, expiresAt });

  it("an unknown identity is nobody; once linked it signs in its user, noting the email it reports", async () => {
    const id = { issuer: ISSUER, subject: subject(), email: "owner@example.com" };
    expect(await db.identities.findUser(id)).toBeNull();
    await db.identities.link(id, LOCAL_USER_ID);
    expect(await db.identities.findUser(id)).toMatchObject({ id: LOCAL_USER_ID, role: "owner" });
    expect(await db.identities.findUser({ ...id, email: "renamed@example.com" })).toMatchObject({ id: LOCAL_USER_ID });
    const row = await db.prisma.userIdentity.findUnique({ where: { issuer_subject: { issuer: ISSUER, subject: id.subject } } });
    expect(row?.email).toBe("renamed@example.com");
    // The same subject at another issuer is another person.
    expect(await db.identities.findUser({ ...id, issuer: "https://other.example.com" })).toBeNull();
    await expect(db.identities.link(id, LOCAL_USER_ID)).rejects.toBeInstanceOf(IdentityTakenError);
  });

  it("makes a member with an invite, using it up; the member has no password", async () => {
    const used = await invite();
    const id = { issuer: ISSUER, subject: subject(), email: "grace@example.com" };
    const member = await db.identities.createMember(id, { name: "Grace", email: "grace@example.com" }, used.id);
    expect(member).toMatchObject({ name: "Grace", email: "grace@example.com", role: "member" });
    expect(await db.identities.findUser(id)).toMatchObject({ id: member.id });
    expect((await db.accounts.findUserByEmail("grace@example.com"))?.passwordHash).toBeNull();
    expect((await db.accounts.getInvite(used.id))?.usedAt).not.toBeNull();
    const again = { issuer: ISSUER, subject: subject(), email: null };
    await expect(db.identities.createMember(again, { name: "Eve", email: null }, used.id)).rejects.toMatchObject({ reason: "used" });
    expect(await db.identities.findUser(again)).toBeNull();
  });

  it("an expired invite, a taken email or a linked identity make nothing and leave the invite as it was", async () => {
    const expired = await invite(new Date(Date.now() - 1000));
    const id = { issuer: ISSUER, subject: subject(), email: null };
    await expect(db.identities.createMember(id, { name: "Late", email: null }, expired.id)).rejects.toBeInstanceOf(InviteUnusableError);

    const fresh = await invite();
    await db.identities.createMember({ issuer: ISSUER, subject: subject(), email: null }, { name: "Ada", email: "ada@example.com" });
    await expect(db.identities.createMember(id, { name: "Ada 2", email: "ada@example.com" }, fresh.id)).rejects.toBeInstanceOf(
      EmailTakenError,
    );
    expect((await db.accounts.getInvite(fresh.id))?.usedAt).toBeNull();

    const linked = { issuer: ISSUER, subject: subject(), email: null };
    await db.identities.link(linked, LOCAL_USER_ID);
    await expect(db.identities.createMember(linked, { name: "Twin", email: "twin@example.com" }, fresh.id)).rejects.toBeInstanceOf(
      IdentityTakenError,
    );
    expect(await db.accounts.findUserByEmail("twin@example.com")).toBeNull();
    expect((await db.accounts.getInvite(fresh.id))?.usedAt).toBeNull();
  });

  it("deleting a user deletes its identities", async () => {
    const id = { issuer: ISSUER, subject: subject(), email: null };
    const member = await db.identities.createMember(id, { name: "Gone", email: null });
    await db.prisma.user.delete({ where: { id: member.id } });
    expect(await db.identities.findUser(id)).toBeNull();
  });
});
