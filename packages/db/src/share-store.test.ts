import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { LOCAL_USER_ID, type Database } from "./database";
import { GrantRefusedError, shareLinkId } from "./share-store";
import { DIALECTS, useTestDatabase } from "./test-support";

const hex = () => createHash("sha256").update(randomBytes(32)).digest("hex");

describe.each(DIALECTS)("share store on %s", (dialect) => {
  let db: Database;
  useTestDatabase(dialect, (opened) => (db = opened));

  const member = async (name: string) => {
    const invite = await db.accounts.createInvite({ id: hex(), createdById: LOCAL_USER_ID, expiresAt: new Date(Date.now() + 3_600_000) });
    return db.accounts.acceptInvite(invite.id, {
      name,
      email: `${name.toLowerCase()}-${hex().slice(0, 8)}@example.com`,
      passwordHash: "$argon2id$x",
    });
  };
  const ownersNotebook = (title = "Shared") => db.notebooks.create(LOCAL_USER_ID, title);

  it("a grant by email gives its role; changing and removing it change what the teammate may do", async () => {
    const notebook = await ownersNotebook();
    const ada = await member("Ada");
    expect(await db.shares.roleOf(ada.id, notebook.id)).toBeNull();
    expect(await db.shares.grant(notebook.id, ada.email!, "viewer")).toMatchObject({
      userId: ada.id,
      name: "Ada",
      email: ada.email,
      role: "viewer",
    });
    expect(await db.shares.roleOf(ada.id, notebook.id)).toBe("viewer");
    // Granting again changes the role instead of failing.
    expect((await db.shares.grant(notebook.id, ada.email!, "runner")).role).toBe("runner");
    expect(await db.shares.changeRole(notebook.id, ada.id, "editor")).toMatchObject({ role: "editor" });
    expect(await db.shares.roleOf(ada.id, notebook.id)).toBe("editor");
    expect(await db.shares.listGrants(notebook.id)).toEqual([expect.objectContaining({ userId: ada.id, role: "editor", name: "Ada" })]);
    expect(await db.shares.removeGrant(notebook.id, ada.id)).toBe(true);
    expect(await db.shares.roleOf(ada.id, notebook.id)).toBeNull();
    expect(await db.shares.removeGrant(notebook.id, ada.id)).toBe(false);
    expect(await db.shares.changeRole(notebook.id, ada.id, "viewer")).toBeNull();
  });

  it("refuses an unknown email and the notebook's owner", async () => {
    const notebook = await ownersNotebook();
    await expect(db.shares.grant(notebook.id, "nobody@example.com", "viewer")).rejects.toMatchObject({
      reason: "unknown-email",
      message: "No teammate with that email",
    });
    const ada = await member("Ada");
    const hers = await db.notebooks.create(ada.id, "Hers");
    await expect(db.shares.grant(hers.id, ada.email!, "editor")).rejects.toBeInstanceOf(GrantRefusedError);
    expect(await db.shares.roleOf(ada.id, hers.id)).toBe("owner");
    expect(await db.shares.listGrants(hers.id)).toEqual([]);
  });

  it("lists the notebooks shared with a user, with the owner's name and the role", async () => {
    const first = await ownersNotebook("First");
    const second = await ownersNotebook("Second");
    const bob = await member("Bob");
    await db.shares.grant(first.id, bob.email!, "runner");
    await db.shares.grant(second.id, bob.email!, "viewer");
    await db.notebooks.update(first.id, { title: "First, saved last" });
    expect(await db.shares.sharedWith(bob.id)).toEqual([
      expect.objectContaining({ id: first.id, title: "First, saved last", role: "runner", ownerName: "Local user" }),
      expect.objectContaining({ id: second.id, title: "Second", role: "viewer", ownerName: "Local user" }),
    ]);
    expect(await db.shares.sharedWith(LOCAL_USER_ID)).toEqual([]);
  });

  it("a link's secret is returned once and stored hashed; it gives its role until revoked", async () => {
    const notebook = await ownersNotebook();
    const link = await db.shares.createLink({ notebookId: notebook.id, role: "viewer", createdById: LOCAL_USER_ID, expiresAt: null });
    expect(link.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(link.id).toBe(shareLinkId(link.secret));
    expect(await db.prisma.shareLink.findUnique({ where: { id: link.secret } })).toBeNull();
    expect(await db.shares.listLinks(notebook.id)).toEqual([
      { id: link.id, role: "viewer", createdAt: link.createdAt, expiresAt: null, createdByName: "Local user" },
    ]);
    expect(await db.shares.roleOf(null, notebook.id, link.secret)).toBe("viewer");
    expect(await db.shares.roleOf(null, notebook.id, "not-the-secret")).toBeNull();
    // A link opens only its own notebook.
    const other = await ownersNotebook("Other");
    expect(await db.shares.roleOf(null, other.id, link.secret)).toBeNull();
    expect(await db.shares.revokeLink(other.id, link.id)).toBe(false);
    expect(await db.shares.revokeLink(notebook.id, link.id)).toBe(true);
    expect(await db.shares.roleOf(null, notebook.id, link.secret)).toBeNull();
    expect(await db.shares.listLinks(notebook.id)).toEqual([]);
  });

  it("an expired link opens nothing", async () => {
    const notebook = await ownersNotebook();
    const expiresAt = new Date(Date.now() + 60_000);
    const link = await db.shares.createLink({ notebookId: notebook.id, role: "runner", createdById: LOCAL_USER_ID, expiresAt });
    expect(await db.shares.roleOf(null, notebook.id, link.secret)).toBe("runner");
    expect(await db.shares.roleOf(null, notebook.id, link.secret, new Date(expiresAt.getTime() + 1))).toBeNull();
  });

  it("an edit link edits only for a signed-in caller; with a grant too, the stronger role wins", async () => {
    const notebook = await ownersNotebook();
    const edit = await db.shares.createLink({ notebookId: notebook.id, role: "editor", createdById: LOCAL_USER_ID, expiresAt: null });
    const view = await db.shares.createLink({ notebookId: notebook.id, role: "viewer", createdById: LOCAL_USER_ID, expiresAt: null });
    const cy = await member("Cy");
    expect(await db.shares.roleOf(null, notebook.id, edit.secret)).toBe("runner");
    expect(await db.shares.roleOf(cy.id, notebook.id, edit.secret)).toBe("editor");
    await db.shares.grant(notebook.id, cy.email!, "runner");
    expect(await db.shares.roleOf(cy.id, notebook.id, view.secret)).toBe("runner");
    expect(await db.shares.roleOf(cy.id, notebook.id, edit.secret)).toBe("editor");
    // The owner stays the owner whatever link they open it with.
    expect(await db.shares.roleOf(LOCAL_USER_ID, notebook.id, view.secret)).toBe("owner");
  });

  it("knows no role on a notebook that does not exist, and deleting a notebook deletes its grants and links", async () => {
    expect(await db.shares.roleOf(LOCAL_USER_ID, "no-such-notebook")).toBeNull();
    const notebook = await ownersNotebook();
    const dee = await member("Dee");
    await db.shares.grant(notebook.id, dee.email!, "viewer");
    const link = await db.shares.createLink({ notebookId: notebook.id, role: "viewer", createdById: LOCAL_USER_ID, expiresAt: null });
    await db.notebooks.remove(notebook.id);
    expect(await db.shares.sharedWith(dee.id)).toEqual([]);
    expect(await db.prisma.shareLink.findUnique({ where: { id: link.id } })).toBeNull();
  });

  it("a run's executed copy is read-only to everyone, its owner included, and not among the notebooks shared with anyone", async () => {
    const notebook = await ownersNotebook("Nightly");
    const ada = await member("Ada");
    await db.shares.grant(notebook.id, ada.email!, "editor");
    const run = await db.notebooks.createExecutedCopy(notebook.id, { userId: LOCAL_USER_ID });
    await db.shares.grant(run!.id, ada.email!, "editor");
    const link = await db.shares.createLink({ notebookId: run!.id, role: "runner", createdById: LOCAL_USER_ID, expiresAt: null });
    expect(await db.shares.roleOf(LOCAL_USER_ID, run!.id)).toBe("viewer");
    expect(await db.shares.roleOf(ada.id, run!.id)).toBe("viewer");
    expect(await db.shares.roleOf(null, run!.id, link.secret)).toBe("viewer");
    expect(await db.shares.roleOf(ada.id, notebook.id)).toBe("editor");
    expect((await db.shares.sharedWith(ada.id)).map((n) => n.id)).toEqual([notebook.id]);
  });
});
