// Nothing is open without the token: like Jupyter, the URL printed at start carries it, and the
// first request with it sets an HttpOnly session cookie for everything after (pages, API, socket).
import type { IncomingMessage } from "node:http";
import { parse as parseCookie, serialize as serializeCookie } from "cookie";
import { secretMatches } from "../secrets";

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
