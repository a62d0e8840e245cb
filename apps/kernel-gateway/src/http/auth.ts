// Nothing is open without an identity (auth/identity.ts): the instance token (the URL printed at
// start carries it; that first request turns it into a session cookie for the owner) or a signed-in
// user's session cookie. Pages without one go to the login page; API calls get 401. State-changing
// requests from another site are refused (CSRF), whoever they claim to be. A signed-out request
// that carries a share link is a guest: it may load the notebook page and try the GET routes of a
// notebook, whose role check (auth/notebook-access.ts) then decides what the link opens.
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import type { UserRecord } from "@cellar/db";
import { type Caller, type Identity, isCrossSite } from "../auth/identity";
import { linkSecretOf } from "../auth/notebook-access";
import { sessionTokenFrom, tokenId } from "../auth/session-tokens";
import { HttpError } from "./http-errors";

declare module "fastify" {
  interface FastifyRequest {
    /** Who is calling; null on the routes that need nobody (login, sign-up, health) and for a
     * guest (a signed-out request with a share link). */
    caller: Caller | null;
  }
}

/** The signed-in user of a request that passed the hook. */
export function userOf(request: FastifyRequest): UserRecord {
  if (!request.caller) throw new HttpError(401, "Sign in first");
  return request.caller.user;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** The web app's pages and assets that a signed-out browser must be able to load. */
const OPEN_PAGES = ["/login", "/signup", "/_next/", "/icon.svg", "/favicon.ico"];
/** The page a share link opens (notebookPagePath): a guest loads it rather than the login page. */
const LINK_PAGES = new Set(["/notebook", "/notebook/"]);

/**
 * `openRoutes`: route URLs that need nobody; `guestRoutes`: route URLs whose GET a guest may try
 * (a notebook's read routes; each checks what the link gives).
 */
export function loginHook(identity: Identity, openRoutes: Set<string>, guestRoutes: Set<string>): onRequestAsyncHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const url = new URL(request.url, "http://x");
    if (!SAFE_METHODS.has(request.method) && isCrossSite(request.headers)) throw new HttpError(403, "Cross-site request refused");
    const route = request.routeOptions.url;
    // The sign-in page and its assets need nobody, and are not worth a database read each.
    if (!route && OPEN_PAGES.some((p) => url.pathname.startsWith(p))) return;
    const caller = await identity.resolve(request.raw);
    request.caller = caller;
    if (caller?.renewedCookie) reply.header("set-cookie", caller.renewedCookie);
    if (route && openRoutes.has(route)) return;
    if (!caller) {
      if (isGuest(request, url, route, guestRoutes)) return;
      if (url.pathname.startsWith("/api/")) throw new HttpError(401, "Sign in first (or give the token)");
      return reply
        .code(302)
        .header("location", `/login/?next=${encodeURIComponent(url.pathname + url.search)}`)
        .send();
    }
    if (url.searchParams.has("token") && !url.pathname.startsWith("/api/")) {
      // The printed URL: the owner gets a session cookie, and the token leaves the address bar.
      url.searchParams.delete("token");
      const cookie = await identity.startSession(caller.user.id, request.headers, sessionOf(request));
      return reply
        .code(302)
        .header("set-cookie", cookie)
        .header("location", url.pathname + url.search)
        .send();
    }
  };
}

function isGuest(request: FastifyRequest, url: URL, route: string | undefined, guestRoutes: Set<string>): boolean {
  if (request.method !== "GET" || !linkSecretOf(request)) return false;
  return route ? guestRoutes.has(route) : LINK_PAGES.has(url.pathname);
}

/** The session the request's cookie names, whoever the request was resolved as. */
export function sessionOf(request: FastifyRequest): string | undefined {
  const token = sessionTokenFrom(request.headers.cookie);
  return token && tokenId(token);
}
