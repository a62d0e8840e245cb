// Who else may open a notebook: grants (a teammate's role, by user) and share links (a role for
// whoever holds the link's secret), and the one answer built from them, roleOf. A link's secret
// is made here and returned once; only its hex SHA-256 is stored, so a copy of the database opens
// nothing. Revoking a grant or a link deletes its row.
import { createHash, randomBytes } from "node:crypto";
import { notebookRoles, roleAtLeast, weakerRole, type NotebookRole, type NotebookSummary } from "@cellar/protocol";
import type { PrismaClient } from "./prisma-client";
import { NOTEBOOK_KIND, RUN_KIND, toSummary } from "./notebook-store";

/** What a grant or a link may give: every role but the owner's, which is Notebook.userId. */
export type SharedRole = Exclude<NotebookRole, "owner">;

/** A signed-out holder of a link gets at most this: editing needs a signed-in teammate. */
const GUEST_CAP: NotebookRole = "runner";

export interface GrantRecord {
  userId: string;
  name: string;
  email: string | null;
  role: SharedRole;
  createdAt: Date;
}

export interface SharedNotebookRecord extends NotebookSummary {
  role: SharedRole;
  ownerName: string;
}

export interface ShareLinkRecord {
  /** The hex SHA-256 of the secret. */
  id: string;
  role: SharedRole;
  createdAt: Date;
  /** Null: it does not expire. */
  expiresAt: Date | null;
  createdByName: string;
}

const REFUSALS = {
  "unknown-email": "No teammate with that email",
  owner: "The owner already has every right on this notebook",
} as const;

/** A grant that cannot be made; `reason` says why (an unknown email, or the notebook's owner). */
export class GrantRefusedError extends Error {
  override name = "GrantRefusedError";
  constructor(readonly reason: keyof typeof REFUSALS) {
    super(REFUSALS[reason]);
  }
}

/**
 * Grants and links of notebooks. Callers check that the notebook exists and that the caller owns
 * it; this store only keeps the rows. Times that decide expiry (`now`) default to the clock.
 */
export interface ShareStore {
  /** Gives the teammate with `email` (lower-cased by the caller) `role`, or changes the role they
   * have. Throws GrantRefusedError for an unknown email or the notebook's owner. */
  grant(notebookId: string, email: string, role: SharedRole): Promise<GrantRecord>;
  /** Changes an existing grant's role; null if the user has none on the notebook. */
  changeRole(notebookId: string, userId: string, role: SharedRole): Promise<GrantRecord | null>;
  /** Removes a grant; false if there was none. */
  removeGrant(notebookId: string, userId: string): Promise<boolean>;
  /** The notebook's grants, oldest first. */
  listGrants(notebookId: string): Promise<GrantRecord[]>;
  /** The notebooks others granted `userId` a role on, most recently saved first. */
  sharedWith(userId: string): Promise<SharedNotebookRecord[]>;
  /** A new link and its secret (shown once: only its hash is kept). */
  createLink(link: {
    notebookId: string;
    role: SharedRole;
    createdById: string;
    expiresAt: Date | null;
  }): Promise<ShareLinkRecord & { secret: string }>;
  /** The notebook's links, expired ones too, newest first. */
  listLinks(notebookId: string): Promise<ShareLinkRecord[]>;
  /** Revokes one of the notebook's links; false if it has no such link. */
  revokeLink(notebookId: string, linkId: string): Promise<boolean>;
  /** The caller's role on the notebook: "owner" for its owner, else the stronger of their grant
   * and what a valid, unexpired `linkSecret` of this notebook gives (a signed-out caller's link
   * gives at most "runner"); null when none of them applies or there is no such notebook. */
  roleOf(userId: string | null, notebookId: string, linkSecret?: string | null, now?: Date): Promise<NotebookRole | null>;
}

/** What a link's secret is stored as. */
export function shareLinkId(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

const GRANT_SELECT = { userId: true, role: true, createdAt: true, user: { select: { name: true, email: true } } } as const;
const LINK_SELECT = { id: true, role: true, createdAt: true, expiresAt: true, createdBy: { select: { name: true } } } as const;

export function createShareStore(prisma: PrismaClient): ShareStore {
  return {
    async grant(notebookId, email, role) {
      const user = await prisma.user.findUnique({ where: { email }, select: { id: true } });
      if (!user) throw new GrantRefusedError("unknown-email");
      const notebook = await prisma.notebook.findUnique({ where: { id: notebookId }, select: { userId: true } });
      if (notebook?.userId === user.id) throw new GrantRefusedError("owner");
      const row = await prisma.notebookGrant.upsert({
        where: { notebookId_userId: { notebookId, userId: user.id } },
        create: { notebookId, userId: user.id, role },
        update: { role },
        select: GRANT_SELECT,
      });
      return toGrant(row);
    },

    async changeRole(notebookId, userId, role) {
      const { count } = await prisma.notebookGrant.updateMany({ where: { notebookId, userId }, data: { role } });
      if (count === 0) return null;
      const row = await prisma.notebookGrant.findUnique({ where: { notebookId_userId: { notebookId, userId } }, select: GRANT_SELECT });
      return row && toGrant(row);
    },

    async removeGrant(notebookId, userId) {
      return (await prisma.notebookGrant.deleteMany({ where: { notebookId, userId } })).count > 0;
    },

    async listGrants(notebookId) {
      const rows = await prisma.notebookGrant.findMany({
        where: { notebookId },
        orderBy: [{ createdAt: "asc" }, { userId: "asc" }],
        select: GRANT_SELECT,
      });
      return rows.map(toGrant);
    },

    async sharedWith(userId) {
      const rows = await prisma.notebookGrant.findMany({
        where: { userId, notebook: { kind: NOTEBOOK_KIND } },
        select: {
          role: true,
          notebook: { select: { id: true, title: true, updatedAt: true, lastRunAt: true, user: { select: { name: true } } } },
        },
      });
      return rows
        .map((row) => ({ ...toSummary(row.notebook), role: sharedRole(row.role), ownerName: row.notebook.user.name }))
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.id.localeCompare(b.id));
    },

    async createLink({ notebookId, role, createdById, expiresAt }) {
      const secret = randomBytes(32).toString("base64url");
      const row = await prisma.shareLink.create({
        data: { id: shareLinkId(secret), notebookId, role, createdById, expiresAt },
        select: LINK_SELECT,
      });
      return { ...toLink(row), secret };
    },

    async listLinks(notebookId) {
      const rows = await prisma.shareLink.findMany({
        where: { notebookId },
        orderBy: [{ createdAt: "desc" }, { id: "asc" }],
        select: LINK_SELECT,
      });
      return rows.map(toLink);
    },

    async revokeLink(notebookId, linkId) {
      return (await prisma.shareLink.deleteMany({ where: { id: linkId, notebookId } })).count > 0;
    },

    async roleOf(userId, notebookId, linkSecret, now = new Date()) {
      const row = await prisma.notebook.findUnique({
        where: { id: notebookId },
        select: {
          userId: true,
          kind: true,
          grants: { where: { userId: userId ?? "" }, select: { role: true } },
          links: { where: { id: linkSecret ? shareLinkId(linkSecret) : "" }, select: { role: true, expiresAt: true } },
        },
      });
      if (!row) return null;
      const role = bestRole(row, userId, now);
      // A run's executed copy is history: whoever may see it may only read it, its owner too.
      return role && row.kind === RUN_KIND ? weakerRole(role, "viewer") : role;
    },
  };
}

type RoleRow = {
  userId: string;
  grants: Array<{ role: string }>;
  links: Array<{ role: string; expiresAt: Date | null }>;
};

function bestRole(row: RoleRow, userId: string | null, now: Date): NotebookRole | null {
  if (userId !== null && row.userId === userId) return "owner";
  const granted = userId !== null && row.grants[0] ? sharedRole(row.grants[0].role) : null;
  const link = row.links[0];
  const linked =
    link && (!link.expiresAt || link.expiresAt > now)
      ? userId === null
        ? weakerRole(sharedRole(link.role), GUEST_CAP)
        : sharedRole(link.role)
      : null;
  if (granted && linked) return roleAtLeast(granted, linked) ? granted : linked;
  return granted ?? linked;
}

/** A stored role this version does not know (or "owner", which no row may give) reads as the
 * weakest: a grant never gives more than it says. */
function sharedRole(stored: string): SharedRole {
  const role = notebookRoles.find((r) => r === stored);
  return role && role !== "owner" ? role : "viewer";
}

type GrantRow = { userId: string; role: string; createdAt: Date; user: { name: string; email: string | null } };
function toGrant(row: GrantRow): GrantRecord {
  return { userId: row.userId, name: row.user.name, email: row.user.email, role: sharedRole(row.role), createdAt: row.createdAt };
}

type LinkRow = { id: string; role: string; createdAt: Date; expiresAt: Date | null; createdBy: { name: string } };
function toLink(row: LinkRow): ShareLinkRecord {
  return { id: row.id, role: sharedRole(row.role), createdAt: row.createdAt, expiresAt: row.expiresAt, createdByName: row.createdBy.name };
}
