// Session tokens, the way Lucia's guide does them with @oslojs: 20 random bytes, base32, in an
// HttpOnly cookie; the database keeps only their SHA-256, so a leaked table opens no session.
import { sha256 } from "@oslojs/crypto/sha2";
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from "@oslojs/encoding";
import { parse as parseCookie, serialize as serializeCookie } from "cookie";

export const SESSION_COOKIE = "cellar_session";
/** A session lives this long after it was last renewed… */
export const SESSION_DAYS = 30;
/** …and is renewed by a request once less than this is left. */
export const RENEW_DAYS = 15;
const DAY_MS = 86_400_000;

export function newToken(): string {
  return encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(20)));
}

/** What the database stores for a token (a session's or an invite's id). */
export function tokenId(token: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(token)));
}

export const sessionExpiry = (now = new Date()) => new Date(now.getTime() + SESSION_DAYS * DAY_MS);
export const needsRenewal = (expiresAt: Date, now = new Date()) => expiresAt.getTime() - now.getTime() < RENEW_DAYS * DAY_MS;

export function sessionTokenFrom(cookieHeader: string | undefined): string | undefined {
  return parseCookie(cookieHeader ?? "")[SESSION_COOKIE] || undefined;
}

/** Lax: a link from elsewhere (chat, mail) still opens the notebook signed in; state-changing
 * requests are checked for their origin besides (see auth.ts). */
export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  return serializeCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: "lax", secure, path: "/", expires: expiresAt });
}

export function clearedSessionCookie(secure: boolean): string {
  return serializeCookie(SESSION_COOKIE, "", { httpOnly: true, sameSite: "lax", secure, path: "/", maxAge: 0 });
}
