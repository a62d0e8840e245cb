// What a single sign-on keeps between sending the browser to the provider and its return: the
// state, nonce and PKCE verifier, where to go after, and the invite (its hash) it signs up with.
// It travels in a short-lived HttpOnly cookie, HMAC-signed so that it cannot be forged or edited,
// and so works whichever gateway replica the browser comes back to.
import { createHmac, timingSafeEqual } from "node:crypto";
import { parse as parseCookie, serialize as serializeCookie } from "cookie";

export const FLOW_COOKIE = "cellar_oidc";
/** Only the callback reads it. */
const FLOW_PATH = "/api/auth/oidc/";
/** Long enough to sign in at the provider, short enough that a stale one is worthless. */
export const FLOW_TTL_MS = 10 * 60_000;

export interface OidcFlow {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** A same-origin path. */
  next: string;
  /** The hex SHA-256 of the invite's token. */
  inviteId?: string;
  expiresAt: number;
}

const sign = (key: string, payload: string) => createHmac("sha256", key).update(payload).digest("base64url");

export function flowCookie(flow: OidcFlow, key: string, secure: boolean): string {
  const payload = Buffer.from(JSON.stringify(flow)).toString("base64url");
  // Lax: the provider's redirect back is a top-level navigation from another site.
  return serializeCookie(FLOW_COOKIE, `${payload}.${sign(key, payload)}`, {
    httpOnly: true,
    sameSite: "lax",
    secure,
    path: FLOW_PATH,
    maxAge: FLOW_TTL_MS / 1000,
  });
}

export function clearedFlowCookie(secure: boolean): string {
  return serializeCookie(FLOW_COOKIE, "", { httpOnly: true, sameSite: "lax", secure, path: FLOW_PATH, maxAge: 0 });
}

/** The flow the request's cookie carries, or null if there is none, it was tampered with, or it expired. */
export function flowFrom(cookieHeader: string | undefined, key: string, now = Date.now()): OidcFlow | null {
  const value = parseCookie(cookieHeader ?? "")[FLOW_COOKIE];
  const [payload, signature] = value?.split(".") ?? [];
  if (!payload || !signature) return null;
  const expected = Buffer.from(sign(key, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  const flow = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as OidcFlow;
  return flow.expiresAt > now ? flow : null;
}
