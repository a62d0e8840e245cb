// Who is calling: the instance token (a bearer header, or `?token=` in the URL printed at start)
// is the instance's first owner; a personal access token (the same places) is its user; otherwise
// the session cookie names a signed-in user. Used by the
// HTTP hook and the socket.io middleware alike, so both know the same people.
import type { IncomingHttpHeaders } from "node:http";
import type { AccessTokenStore, AccountStore, UserRecord } from "@cellar/db";
import { secretMatches } from "../secrets";
import { needsRenewal, newToken, sessionCookie, sessionExpiry, sessionTokenFrom, tokenId } from "./session-tokens";

export interface Caller {
  user: UserRecord;
  /** Set when the caller came in by a session cookie (not a token). */
  sessionId?: string;
  /** Set when the caller came in by a personal access token: its id. */
  accessTokenId?: string;
  /** The cookie again with a later expiry, when this request renewed the session. */
  renewedCookie?: string;
}

export interface IdentityOptions {
  accounts: AccountStore;
  accessTokens: AccessTokenStore;
  /** The instance token (CELLAR_TOKEN or the generated one). */
  token: string;
  /** The user the instance token signs in: the instance's first owner. */
  ownerId: string;
}

export class Identity {
  constructor(private readonly opts: IdentityOptions) {}

  /** The caller of a request, or null. A wrong bearer token is nobody, whatever cookie comes with it. */
  async resolve(req: { headers: IncomingHttpHeaders; url?: string }): Promise<Caller | null> {
    const given = instanceTokenIn(req);
    if (given !== undefined) {
      if (secretMatches(given, this.opts.token)) return this.owner();
      const accessTokenId = tokenId(given);
      const user = await this.opts.accessTokens.use(accessTokenId);
      return user && { user, accessTokenId };
    }
    const token = sessionTokenFrom(req.headers.cookie);
    if (!token) return null;
    const session = await this.opts.accounts.getSession(tokenId(token));
    if (!session) return null;
    const caller: Caller = { user: session.user, sessionId: session.id };
    if (needsRenewal(session.expiresAt)) {
      const expiresAt = sessionExpiry();
      await this.opts.accounts.extendSession(session.id, expiresAt);
      caller.renewedCookie = sessionCookie(token, expiresAt, isSecure(req.headers));
    }
    return caller;
  }

  /** Whether the request offers the instance token (right or wrong). */
  offersInstanceToken(req: { headers: IncomingHttpHeaders; url?: string }): boolean {
    return instanceTokenIn(req) !== undefined;
  }

  /** A new session for the user: its Set-Cookie. The session the browser had before (if any) is
   * ended, so a session id planted before sign-in is worth nothing after it (fixation). */
  async startSession(userId: string, headers: IncomingHttpHeaders, replacing?: string): Promise<string> {
    if (replacing) await this.opts.accounts.deleteSession(replacing);
    const token = newToken();
    const expiresAt = sessionExpiry();
    await this.opts.accounts.createSession({ id: tokenId(token), userId, expiresAt });
    return sessionCookie(token, expiresAt, isSecure(headers));
  }

  private async owner(): Promise<Caller | null> {
    const user = await this.opts.accounts.getUser(this.opts.ownerId);
    return user && { user };
  }
}

function instanceTokenIn(req: { headers: IncomingHttpHeaders; url?: string }): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7);
  return new URL(req.url ?? "/", "http://x").searchParams.get("token") ?? undefined;
}

/** Behind a TLS-terminating proxy the request itself is plain HTTP: the proxy says so. */
export function isSecure(headers: IncomingHttpHeaders): boolean {
  return headers["x-forwarded-proto"] === "https";
}

/** A state-changing request a browser sent from another site (CSRF). Browsers send Origin on
 * every non-GET request; tools (the CLI, curl) send neither header and use the token. */
export function isCrossSite(headers: IncomingHttpHeaders): boolean {
  const origin = headers.origin;
  if (origin) {
    try {
      return new URL(origin).host !== headers.host;
    } catch {
      return true;
    }
  }
  const site = headers["sec-fetch-site"];
  return site !== undefined && site !== "same-origin" && site !== "none";
}
