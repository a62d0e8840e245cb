// The single sign-on routes: which sign-in methods the login page offers, the start (off to the
// provider) and the callback (back, signed in). Who the provider's person is here: the user
// already linked to their (issuer, subject); else the user with the email the provider has
// verified (now linked); else, with an invite or when the instance allows sign-up, a new member.
// Anyone else is refused. Every refusal is a redirect to the login page with ?error=, which the
// page shows.
import type { FastifyReply, FastifyRequest } from "fastify";
import {
  EmailTakenError,
  IdentityTakenError,
  InviteUnusableError,
  type AccountStore,
  type IdentityStore,
  type ProviderIdentity,
  type UserRecord,
} from "@cellar/db";
import { apiRoutes } from "@cellar/protocol";
import { type Identity, isSecure } from "../auth/identity";
import { type ProviderClaims, type SingleSignOn, SingleSignOnError } from "../auth/single-sign-on";
import { tokenId } from "../auth/session-tokens";
import type { ApiHandlers } from "./api-handlers";
import { INVITE_GONE } from "./auth-api";
import { sessionOf } from "./auth";

export interface OidcApiDeps {
  accounts: AccountStore;
  identities: IdentityStore;
  identity: Identity;
  /** Unset: no single sign-on configured. */
  singleSignOn?: SingleSignOn;
}

/** Pages that sign in: coming back to them after signing in would only loop. */
const ACCOUNT_PAGES = ["/login", "/signup"];

/** `next` if it is a path on this origin (not an account page), else "/". Anyone can craft it, so
 * it is parsed the way a browser would follow it: `//host`, `/\host` and the like leave the origin. */
export function sameOriginPath(next: string | undefined): string {
  if (!next?.startsWith("/")) return "/";
  const base = "http://cellar.invalid";
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return "/";
  }
  const path = url.pathname + url.search + url.hash;
  // "/.//host" normalises to "//host", which a Location header would take as another host.
  if (url.origin !== base || path.startsWith("//") || ACCOUNT_PAGES.some((p) => url.pathname.startsWith(p))) return "/";
  return path;
}

const originOf = (request: FastifyRequest) => `${isSecure(request.headers) ? "https" : "http"}://${request.headers.host}`;

function refuse(reply: FastifyReply, message: string, extraCookie?: string) {
  if (extraCookie) reply.header("set-cookie", extraCookie);
  return reply.redirect(`/login/?error=${encodeURIComponent(message)}`, 302);
}

class Refused extends Error {}

export function oidcApi(deps: OidcApiDeps): ApiHandlers<"authProviders" | "oidcStart" | "oidcCallback"> {
  const { singleSignOn: sso, identities, accounts } = deps;

  /** The user the provider's person is here, or Refused with the reason. */
  async function userFor(claims: ProviderClaims, inviteId: string | undefined, allowSignup: boolean): Promise<UserRecord> {
    // Only an email the provider vouches for may find (and so take over) an existing account.
    const email = claims.emailVerified ? claims.email : null;
    const identity: ProviderIdentity = { issuer: claims.issuer, subject: claims.subject, email };
    const linked = await identities.findUser(identity);
    if (linked) return linked;
    const byEmail = email ? await accounts.findUserByEmail(email) : null;
    try {
      if (byEmail) {
        await identities.link(identity, byEmail.id);
        return byEmail;
      }
      if (!inviteId && !allowSignup) {
        throw new Refused(
          claims.email && !claims.emailVerified
            ? `Your sign-in provider has not verified ${claims.email}, so it cannot be matched to an account here.`
            : `There is no account here for ${claims.email ?? "you"}. Ask the owner of this Cellar for an invite link.`,
        );
      }
      const name = claims.name ?? claims.email?.split("@")[0] ?? "Teammate";
      return await identities.createMember(identity, { name, email }, inviteId);
    } catch (error) {
      if (error instanceof InviteUnusableError) throw new Refused(INVITE_GONE[error.reason]);
      if (error instanceof EmailTakenError) throw new Refused("An account with this email already exists; sign in with it first.");
      // A first sign-in of the same person a moment earlier linked it.
      if (error instanceof IdentityTakenError) {
        const now = await identities.findUser(identity);
        if (now) return now;
      }
      throw error;
    }
  }

  return {
    authProviders: async () => ({ oidc: sso ? { name: sso.name, reachable: await sso.reachable() } : null }),

    oidcStart: async (request, reply) => {
      if (!sso) return refuse(reply, "Single sign-on is not configured on this Cellar.");
      const { next, invite } = request.query;
      try {
        const { url, cookie } = await sso.start(originOf(request) + apiRoutes.oidcCallback.url, {
          next: sameOriginPath(next),
          inviteId: invite ? tokenId(invite) : undefined,
          secure: isSecure(request.headers),
        });
        return reply.header("set-cookie", cookie).redirect(url, 302);
      } catch (error) {
        if (error instanceof SingleSignOnError) return refuse(reply, error.message);
        throw error;
      }
    },

    oidcCallback: async (request, reply) => {
      if (!sso) return refuse(reply, "Single sign-on is not configured on this Cellar.");
      const secure = isSecure(request.headers);
      // Used once, whatever happens next.
      const cleared = sso.clearedCookie(secure);
      try {
        const { claims, flow } = await sso.finish(new URL(request.url, originOf(request)), request.headers.cookie);
        const user = await userFor(claims, flow.inviteId, sso.settings.allowSignup);
        const session = await deps.identity.startSession(user.id, request.headers, sessionOf(request));
        return reply.header("set-cookie", [cleared, session]).redirect(flow.next, 302);
      } catch (error) {
        if (error instanceof Refused) return refuse(reply, error.message, cleared);
        if (error instanceof SingleSignOnError) {
          console.warn(`gateway: single sign-on refused: ${(error.cause as Error | undefined)?.message ?? error.message}`);
          return refuse(reply, error.message, cleared);
        }
        throw error;
      }
    },
  };
}
