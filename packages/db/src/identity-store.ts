// Sign-ins through an OpenID Connect provider: the provider's (issuer, subject) names one Cellar
// user for good, whatever email the provider reports later. Which user a first sign-in becomes
// (an existing account by verified email, an invite, open sign-up) is the gateway's decision;
// this store only keeps the links, and makes a new member and its link in one transaction.
import type { PrismaClient } from "./prisma-client";
import { claimInvite, createMember, USER_FIELDS, toUser, type UserRecord } from "./account-store";
import { isUniqueViolation } from "./prisma-errors";

export interface ProviderIdentity {
  issuer: string;
  subject: string;
  /** The email the provider vouches for now (lower-cased), if any. */
  email: string | null;
}

/** The (issuer, subject) is linked to a user already (a concurrent first sign-in won). */
export class IdentityTakenError extends Error {
  override name = "IdentityTakenError";
  constructor(options?: ErrorOptions) {
    super("This sign-in is already linked to an account.", options);
  }
}

export interface IdentityStore {
  /** The user the identity signs in, or null; notes the email the provider reports now. */
  findUser(identity: ProviderIdentity): Promise<UserRecord | null>;
  /** Links the identity to an existing user. Throws IdentityTakenError if it is linked already. */
  link(identity: ProviderIdentity, userId: string): Promise<void>;
  /** A new member (no password) signed in by the identity; with `inviteId`, the invite is used in
   * the same transaction (InviteUnusableError, and nothing is made, if it cannot be). Throws
   * EmailTakenError or IdentityTakenError, making nothing. */
  createMember(
    identity: ProviderIdentity,
    user: { name: string; email: string | null },
    inviteId?: string,
    now?: Date,
  ): Promise<UserRecord>;
}

export function createIdentityStore(prisma: PrismaClient): IdentityStore {
  return {
    async findUser({ issuer, subject, email }) {
      const row = await prisma.userIdentity.findUnique({
        where: { issuer_subject: { issuer, subject } },
        include: { user: { select: USER_FIELDS } },
      });
      if (!row) return null;
      if (row.email !== email) await prisma.userIdentity.update({ where: { issuer_subject: { issuer, subject } }, data: { email } });
      return toUser(row.user);
    },

    async link(identity, userId) {
      try {
        await prisma.userIdentity.create({ data: { ...identity, userId } });
      } catch (error) {
        if (isUniqueViolation(error)) throw new IdentityTakenError({ cause: error });
        throw error;
      }
    },

    async createMember(identity, user, inviteId, now = new Date()) {
      return prisma.$transaction(async (tx) => {
        if (inviteId) await claimInvite(tx, inviteId, now);
        const member = await createMember(tx, { ...user, passwordHash: null });
        if (inviteId) await tx.invite.update({ where: { id: inviteId }, data: { usedById: member.id } });
        try {
          await tx.userIdentity.create({ data: { ...identity, userId: member.id } });
        } catch (error) {
          if (isUniqueViolation(error)) throw new IdentityTakenError({ cause: error });
          throw error;
        }
        return member;
      });
    },
  };
}
