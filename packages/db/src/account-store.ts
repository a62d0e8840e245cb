// Accounts as rows: users with their instance role and password hash, signed-in sessions and
// single-use invites. No secret is ever stored here in the clear: sessions and invites are keyed
// by the SHA-256 of their tokens and passwords arrive hashed; hashing, token making and email
// normalising are the caller's (the gateway's auth layer), so this store holds no crypto.
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "./prisma-client";
import { isUniqueViolation } from "./prisma-errors";
import type { Invite as InviteRow, Prisma, User as UserRow } from "../generated/sqlite/client";

/** A user's role on the whole instance (not on a notebook): owners invite teammates. */
export type InstanceRole = "owner" | "member";

export interface UserRecord {
  id: string;
  name: string;
  /** Lower-cased; null for a user without a password sign-in (the local owner until it sets one). */
  email: string | null;
  role: InstanceRole;
  createdAt: Date;
}

export interface SessionRecord {
  /** The hex SHA-256 of the cookie's token. */
  id: string;
  userId: string;
  expiresAt: Date;
  user: UserRecord;
}

export interface InviteRecord {
  /** The hex SHA-256 of the invite link's token. */
  id: string;
  createdById: string;
  createdByName: string;
  createdAt: Date;
  expiresAt: Date;
  /** When a teammate signed up with it; a used invite never works again. */
  usedAt: Date | null;
}

export class EmailTakenError extends Error {
  override name = "EmailTakenError";
  constructor(options?: ErrorOptions) {
    super("An account with this email already exists.", options);
  }
}

const UNUSABLE_MESSAGES = {
  unknown: "This invite link is not valid.",
  used: "This invite link has already been used.",
  expired: "This invite link has expired.",
} as const;

/** An invite that cannot make an account; `reason` says why. */
export class InviteUnusableError extends Error {
  override name = "InviteUnusableError";
  constructor(readonly reason: "unknown" | "used" | "expired") {
    super(UNUSABLE_MESSAGES[reason]);
  }
}

/**
 * Users, sessions and invites.
 *
 * - Emails are compared as stored: the caller lower-cases them before every call, so the unique
 *   index makes "one account per email" hold across gateways and dialects.
 * - A session lives from createSession until it expires (getSession then deletes it), is deleted,
 *   or its user's sessions are all deleted; extendSession moves its expiry (sliding sessions).
 *   Deleting a user deletes its sessions and the invites it created (foreign-key cascade).
 * - An invite is unused until acceptInvite succeeds once; from then on it is "used" for good,
 *   even if the member it made is deleted. It is "expired" from expiresAt on.
 * - Times that decide expiry (`now`) default to the clock; tests pass their own.
 */
export interface AccountStore {
  getUser(id: string): Promise<UserRecord | null>;
  findUserByEmail(email: string): Promise<(UserRecord & { passwordHash: string | null }) | null>;
  /** Sets (or replaces) a user's email and password hash (the owner setting a password). Throws EmailTakenError. */
  setCredentials(userId: string, email: string, passwordHash: string): Promise<UserRecord>;
  createSession(session: { id: string; userId: string; expiresAt: Date }): Promise<void>;
  /** The session with its user, or null if unknown OR expired (an expired one is deleted). */
  getSession(id: string, now?: Date): Promise<SessionRecord | null>;
  /** Moves the session's expiry; nothing if it no longer exists. */
  extendSession(id: string, expiresAt: Date): Promise<void>;
  /** Sign-out; nothing if it no longer exists. */
  deleteSession(id: string): Promise<void>;
  /** Every session of the user ("sign out everywhere"); how many. */
  deleteUserSessions(userId: string): Promise<number>;
  createInvite(invite: { id: string; createdById: string; expiresAt: Date }): Promise<InviteRecord>;
  getInvite(id: string): Promise<InviteRecord | null>;
  /** Every invite the user created, used and expired ones too, newest first. */
  listInvites(createdById: string): Promise<InviteRecord[]>;
  /** Revokes an invite; false if there was none. */
  deleteInvite(id: string): Promise<boolean>;
  /** Uses the invite and creates the member, in one transaction: a used, expired or unknown
   * invite throws InviteUnusableError and creates nothing; a taken email throws EmailTakenError
   * and leaves the invite unused. Two concurrent accepts of one invite: exactly one wins. */
  acceptInvite(id: string, user: { name: string; email: string; passwordHash: string }, now?: Date): Promise<UserRecord>;
}

/** The columns of a UserRecord (never the password hash). */
export const USER_FIELDS = { id: true, name: true, email: true, role: true, createdAt: true } as const;
const USER = USER_FIELDS;
const INVITE_INCLUDE = { createdBy: { select: { name: true } } } as const;

export function createAccountStore(prisma: PrismaClient): AccountStore {
  return {
    async getUser(id) {
      const row = await prisma.user.findUnique({ where: { id }, select: USER });
      return row && toUser(row);
    },

    async findUserByEmail(email) {
      const row = await prisma.user.findUnique({ where: { email }, select: { ...USER, passwordHash: true } });
      return row && { ...toUser(row), passwordHash: row.passwordHash };
    },

    async setCredentials(userId, email, passwordHash) {
      try {
        return toUser(await prisma.user.update({ where: { id: userId }, data: { email, passwordHash }, select: USER }));
      } catch (error) {
        if (isUniqueViolation(error)) throw new EmailTakenError({ cause: error });
        if (isNotFound(error)) throw new Error(`setting the credentials of user ${userId}: no such user`, { cause: error });
        throw error;
      }
    },

    async createSession(session) {
      await prisma.authSession.create({ data: session });
    },

    async getSession(id, now = new Date()) {
      const row = await prisma.authSession.findUnique({ where: { id }, include: { user: { select: USER } } });
      if (!row) return null;
      if (row.expiresAt <= now) {
        // Only if still expired: a request extending it meanwhile keeps it.
        await prisma.authSession.deleteMany({ where: { id, expiresAt: { lte: now } } });
        return null;
      }
      return { id: row.id, userId: row.userId, expiresAt: row.expiresAt, user: toUser(row.user) };
    },

    async extendSession(id, expiresAt) {
      await prisma.authSession.updateMany({ where: { id }, data: { expiresAt } });
    },

    async deleteSession(id) {
      await prisma.authSession.deleteMany({ where: { id } });
    },

    async deleteUserSessions(userId) {
      return (await prisma.authSession.deleteMany({ where: { userId } })).count;
    },

    async createInvite(invite) {
      return toInvite(await prisma.invite.create({ data: invite, include: INVITE_INCLUDE }));
    },

    async getInvite(id) {
      const row = await prisma.invite.findUnique({ where: { id }, include: INVITE_INCLUDE });
      return row && toInvite(row);
    },

    async listInvites(createdById) {
      const rows = await prisma.invite.findMany({
        where: { createdById },
        orderBy: [{ createdAt: "desc" }, { id: "asc" }],
        include: INVITE_INCLUDE,
      });
      return rows.map(toInvite);
    },

    async deleteInvite(id) {
      return (await prisma.invite.deleteMany({ where: { id } })).count > 0;
    },

    async acceptInvite(id, user, now = new Date()) {
      return prisma.$transaction(async (tx) => {
        await claimInvite(tx, id, now);
        const member = await createMember(tx, user);
        await tx.invite.update({ where: { id }, data: { usedById: member.id } });
        return member;
      });
    },
  };
}

type Transaction = Prisma.TransactionClient;

/** Marks the invite used, inside the caller's transaction, or throws InviteUnusableError. Claimed
 * first, by a conditional write: of two accepts racing, the second waits on the first's row lock
 * (PostgreSQL) or write lock (SQLite), then finds the invite used. A failure later in the
 * transaction rolls the claim back, so a taken email leaves the invite usable. */
export async function claimInvite(tx: Transaction, id: string, now: Date): Promise<void> {
  const claimed = await tx.invite.updateMany({
    where: { id, usedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  if (claimed.count === 0) {
    const invite = await tx.invite.findUnique({ where: { id }, select: { usedAt: true } });
    throw new InviteUnusableError(!invite ? "unknown" : invite.usedAt ? "used" : "expired");
  }
}

/** A new member; EmailTakenError if another user has the email. */
export async function createMember(
  tx: Transaction,
  user: { name: string; email: string | null; passwordHash: string | null },
): Promise<UserRecord> {
  try {
    return toUser(await tx.user.create({ data: { id: randomUUID(), ...user, role: "member" }, select: USER }));
  } catch (error) {
    if (isUniqueViolation(error)) throw new EmailTakenError({ cause: error });
    throw error;
  }
}

export function toUser(row: Pick<UserRow, "id" | "name" | "email" | "role" | "createdAt">): UserRecord {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    // A role this version does not know grants nothing more than a member's.
    role: row.role === "owner" ? "owner" : "member",
    createdAt: row.createdAt,
  };
}

function toInvite(row: InviteRow & { createdBy: { name: string } }): InviteRecord {
  return {
    id: row.id,
    createdById: row.createdById,
    createdByName: row.createdBy.name,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    usedAt: row.usedAt,
  };
}

/** Prisma's "record to update not found" (P2025). */
function isNotFound(error: unknown): boolean {
  return (error as { code?: string })?.code === "P2025";
}
