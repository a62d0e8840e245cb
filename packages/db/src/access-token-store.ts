// Personal access tokens as rows: what the CLI and scripts sign in with. Keyed by the SHA-256 of
// the secret (the caller hashes; nothing here sees a secret). Revoking deletes the row.
import type { PrismaClient } from "./prisma-client";
import { toUser, USER_FIELDS, type UserRecord } from "./account-store";

export interface AccessTokenRecord {
  /** The hex SHA-256 of the secret. */
  id: string;
  userId: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
}

/** `lastUsedAt` is written no more often than this, so a busy script does not write every request. */
const TOUCH_EVERY_MS = 60_000;

export interface AccessTokenStore {
  create(token: { id: string; userId: string; name: string; expiresAt: Date | null }): Promise<AccessTokenRecord>;
  /** The user's tokens, newest first. */
  list(userId: string): Promise<AccessTokenRecord[]>;
  /** Revokes one of the user's tokens; false if it is not theirs (or gone). */
  remove(userId: string, id: string): Promise<boolean>;
  /** The token's user, or null if unknown or expired; notes the use (at most once a minute). */
  use(id: string, now?: Date): Promise<UserRecord | null>;
}

export function createAccessTokenStore(prisma: PrismaClient): AccessTokenStore {
  return {
    async create(token) {
      return toToken(await prisma.accessToken.create({ data: token }));
    },

    async list(userId) {
      const rows = await prisma.accessToken.findMany({ where: { userId }, orderBy: [{ createdAt: "desc" }, { id: "asc" }] });
      return rows.map(toToken);
    },

    async remove(userId, id) {
      return (await prisma.accessToken.deleteMany({ where: { id, userId } })).count > 0;
    },

    async use(id, now = new Date()) {
      const row = await prisma.accessToken.findUnique({ where: { id }, include: { user: { select: USER_FIELDS } } });
      if (!row || (row.expiresAt && row.expiresAt <= now)) return null;
      if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= TOUCH_EVERY_MS)
        await prisma.accessToken.updateMany({ where: { id }, data: { lastUsedAt: now } });
      return toUser(row.user);
    },
  };
}

function toToken(row: AccessTokenRecord): AccessTokenRecord {
  return { id: row.id, userId: row.userId, name: row.name, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, expiresAt: row.expiresAt };
}
