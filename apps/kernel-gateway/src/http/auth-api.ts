// The account routes: sign in and out (everywhere), the signed-in user, an owner's email and
// password, invites, and signing up with one. Who may call each is checked here, on the server.
import type { FastifyReply, FastifyRequest } from "fastify";
import {
  EmailTakenError,
  InviteUnusableError,
  type AccessTokenRecord,
  type AccessTokenStore,
  type AccountStore,
  type InviteRecord,
  type UserRecord,
} from "@cellar/db";
import { clearedSessionCookie } from "../auth/session-tokens";
import { hashPassword, passwordMatches } from "../auth/passwords";
import { type Identity, isSecure } from "../auth/identity";
import { newToken, tokenId } from "../auth/session-tokens";
import type { ApiHandlers } from "./api-handlers";
import { sessionOf, userOf } from "./auth";
import { HttpError } from "./http-errors";

export interface AuthApiDeps {
  accounts: AccountStore;
  accessTokens: AccessTokenStore;
  identity: Identity;
  /** Ends every open socket of the user (sign out everywhere). */
  disconnectUser?(userId: string): void;
}

const HOUR_MS = 3_600_000;

export const userReply = (u: UserRecord) => ({ user: { id: u.id, name: u.name, email: u.email, role: u.role } });

const inviteReply = (i: InviteRecord) => ({
  id: i.id,
  createdAt: i.createdAt.toISOString(),
  expiresAt: i.expiresAt.toISOString(),
  usedAt: i.usedAt?.toISOString() ?? null,
});

function ownerOnly(request: FastifyRequest): UserRecord {
  const user = userOf(request);
  if (user.role !== "owner") throw new HttpError(403, "Only an owner of this Cellar can do that.");
  return user;
}

export const INVITE_GONE: Record<InviteUnusableError["reason"], string> = {
  unknown: "This invite does not exist (it may have been revoked).",
  used: "This invite has already been used.",
  expired: "This invite has expired; ask for a new one.",
};

const accessTokenReply = (t: AccessTokenRecord) => ({
  id: t.id,
  name: t.name,
  createdAt: t.createdAt.toISOString(),
  lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  expiresAt: t.expiresAt?.toISOString() ?? null,
});

/** Recognisable in a config file or a leak scanner. */
const ACCESS_TOKEN_PREFIX = "cellar_pat_";
const DAY_MS = 86_400_000;

export function authApi(
  deps: AuthApiDeps,
): ApiHandlers<
  | "listAccessTokens"
  | "createAccessToken"
  | "deleteAccessToken"
  | "me"
  | "login"
  | "logout"
  | "logoutEverywhere"
  | "setCredentials"
  | "signup"
  | "checkInvite"
  | "listInvites"
  | "createInvite"
  | "deleteInvite"
> {
  const { accounts, identity } = deps;
  const signIn = async (request: FastifyRequest, reply: FastifyReply, user: UserRecord) => {
    reply.header("set-cookie", await identity.startSession(user.id, request.headers, sessionOf(request)));
    return userReply(user);
  };
  const signOut = (request: FastifyRequest, reply: FastifyReply) => {
    reply.header("set-cookie", clearedSessionCookie(isSecure(request.headers)));
    return reply.code(204).send(null);
  };
  return {
    me: async (request) => userReply(userOf(request)),
    login: async (request, reply) => {
      const found = await accounts.findUserByEmail(request.body.email);
      // One answer for an unknown email and a wrong password: which accounts exist stays unsaid.
      if (!(await passwordMatches(found?.passwordHash ?? null, request.body.password)) || !found)
        throw new HttpError(401, "Wrong email or password.");
      return signIn(request, reply, found);
    },
    logout: async (request, reply) => {
      const session = sessionOf(request);
      if (session) await accounts.deleteSession(session);
      return signOut(request, reply);
    },
    logoutEverywhere: async (request, reply) => {
      const user = userOf(request);
      await accounts.deleteUserSessions(user.id);
      deps.disconnectUser?.(user.id);
      return signOut(request, reply);
    },
    setCredentials: async (request) => {
      const user = userOf(request);
      try {
        return userReply(await accounts.setCredentials(user.id, request.body.email, await hashPassword(request.body.password)));
      } catch (error) {
        if (error instanceof EmailTakenError) throw new HttpError(409, error.message);
        throw error;
      }
    },
    signup: async (request, reply) => {
      const { invite, name, email, password } = request.body;
      try {
        const user = await accounts.acceptInvite(tokenId(invite), { name, email, passwordHash: await hashPassword(password) });
        return signIn(request, reply, user);
      } catch (error) {
        if (error instanceof InviteUnusableError) throw new HttpError(410, INVITE_GONE[error.reason]);
        if (error instanceof EmailTakenError) throw new HttpError(409, error.message);
        throw error;
      }
    },
    checkInvite: async (request) => {
      const invite = await accounts.getInvite(tokenId(request.params.token));
      const reason = !invite ? "unknown" : invite.usedAt ? "used" : invite.expiresAt.getTime() <= Date.now() ? "expired" : null;
      if (reason || !invite) throw new HttpError(410, INVITE_GONE[reason ?? "unknown"]);
      return { invitedBy: invite.createdByName, expiresAt: invite.expiresAt.toISOString() };
    },
    listInvites: async (request) => (await accounts.listInvites(ownerOnly(request).id)).map(inviteReply),
    createInvite: async (request, reply) => {
      const owner = ownerOnly(request);
      const token = newToken();
      const invite = await accounts.createInvite({
        id: tokenId(token),
        createdById: owner.id,
        expiresAt: new Date(Date.now() + request.body.expiresInHours * HOUR_MS),
      });
      const proto = isSecure(request.headers) ? "https" : "http";
      const url = `${proto}://${request.headers.host}/signup/?invite=${encodeURIComponent(token)}`;
      return reply.code(201).send({ ...inviteReply(invite), url, token });
    },
    listAccessTokens: async (request) => (await deps.accessTokens.list(userOf(request).id)).map(accessTokenReply),
    createAccessToken: async (request, reply) => {
      const user = userOf(request);
      // A token cannot make more tokens: one that leaks cannot entrench itself.
      if (!request.caller?.sessionId) throw new HttpError(403, "Create access tokens from the web app, signed in.");
      const token = ACCESS_TOKEN_PREFIX + newToken();
      const { expiresInDays } = request.body;
      const made = await deps.accessTokens.create({
        id: tokenId(token),
        userId: user.id,
        name: request.body.name,
        expiresAt: expiresInDays === undefined ? null : new Date(Date.now() + expiresInDays * DAY_MS),
      });
      return reply.code(201).send({ ...accessTokenReply(made), token });
    },
    deleteAccessToken: async (request, reply) => {
      if (!(await deps.accessTokens.remove(userOf(request).id, request.params.id))) throw new HttpError(404, "No such access token");
      return reply.code(204).send(null);
    },
    deleteInvite: async (request, reply) => {
      ownerOnly(request);
      if (!(await accounts.deleteInvite(request.params.id))) throw new HttpError(404, "No such invite");
      return reply.code(204).send(null);
    },
  };
}
