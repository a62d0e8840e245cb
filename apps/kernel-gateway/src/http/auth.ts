// Nothing is open without the token: like Jupyter, the URL printed at start carries it, and the
// first request with it sets an HttpOnly session cookie for everything after (pages, API, socket).
import type { IncomingMessage } from "node:http";
import type { onRequestAsyncHookHandler } from "fastify";
import { parse as parseCookie, serialize as serializeCookie } from "cookie";
import { secretMatches } from "../secrets";
import { HttpError } from "./http-errors";

export const SESSION_COOKIE = "cellar_token";

export function tokenFromRequest(req: Pick<IncomingMessage, "headers" | "url">): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7);
  const url = new URL(req.url ?? "/", "http://x");
  const q = url.searchParams.get("token");
  if (q) return q;
  const cookies = parseCookie(req.headers.cookie ?? "");
  return cookies[SESSION_COOKIE];
}

export function isAuthorized(req: Pick<IncomingMessage, "headers" | "url">, token: string): boolean {
  return secretMatches(tokenFromRequest(req), token);
}

export function sessionCookie(token: string): string {
  return serializeCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: "strict", path: "/", maxAge: 60 * 60 * 24 * 30 });
}

const LOGIN_PAGE =
  "<!doctype html><title>Cellar</title><p>Open Cellar with the URL (including <code>?token=…</code>) printed by <code>npm start</code>.</p>";

/** Refuses requests without the token (an HTML page for pages, a JSON error under /api/), and
 * turns a token in the URL into the session cookie, redirecting to the address without it. */
export function loginHook(token: string, openPaths: string[]): onRequestAsyncHookHandler {
  return async (request, reply) => {
    const url = new URL(request.url, "http://x");
    if (openPaths.includes(url.pathname)) return;
    if (!isAuthorized(request.raw, token)) {
      if (url.pathname.startsWith("/api/")) throw new HttpError(401, "Missing or invalid token");
      return reply.code(401).type("text/html; charset=utf-8").send(LOGIN_PAGE);
    }
    if (url.searchParams.has("token")) {
      url.searchParams.delete("token");
      return reply
        .code(302)
        .header("set-cookie", sessionCookie(token))
        .header("location", url.pathname + url.search)
        .send();
    }
  };
}
