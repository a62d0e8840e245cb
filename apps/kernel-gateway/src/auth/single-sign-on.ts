// Single sign-on through an OpenID Connect provider (openid-client): the authorization code flow
// with PKCE, state and nonce. The provider's metadata is discovered on first need and kept; a
// failed discovery (the provider is down) is retried on a later request, at most every
// RETRY_AFTER_MS, so the gateway starts and serves password sign-in without it.
import * as oidc from "openid-client";
import { emailSchema } from "@cellar/protocol";
import { clearedFlowCookie, FLOW_TTL_MS, flowCookie, flowFrom, type OidcFlow } from "./oidc-flow";

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Unset: a public client (PKCE only). */
  clientSecret?: string;
  /** The button's label: "Sign in with <name>". */
  name: string;
  /** Anyone the provider signs in becomes a member on first sign-in (otherwise: existing users and invites only). */
  allowSignup: boolean;
}

/** Who the provider says signed in. */
export interface ProviderClaims {
  issuer: string;
  subject: string;
  /** Lower-cased; null when the provider gave none (or not an email). */
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/** A sign-in that cannot go on; `message` is for the person signing in. */
export class SingleSignOnError extends Error {
  override name = "SingleSignOnError";
}

const RETRY_AFTER_MS = 10_000;
const DISCOVERY_TIMEOUT_S = 5;

export class SingleSignOn {
  private config?: oidc.Configuration;
  private discovering?: Promise<oidc.Configuration>;
  private failedAt = 0;
  private lastFailure?: Error;

  constructor(
    readonly settings: OidcSettings,
    /** Signs the flow cookie: the same on every replica. */
    private readonly flowKey: string,
  ) {}

  get name(): string {
    return this.settings.name;
  }

  /** Whether the provider's metadata is known (discovering it now if need be). */
  async reachable(): Promise<boolean> {
    return this.configuration().then(
      () => true,
      () => false,
    );
  }

  /** Where to send the browser, and the cookie that keeps the flow until it returns. */
  async start(redirectUri: string, opts: { next: string; inviteId?: string; secure: boolean }): Promise<{ url: string; cookie: string }> {
    const config = await this.configuration().catch((error) => {
      throw new SingleSignOnError(`${this.name} cannot be reached right now; try again later or sign in with a password.`, {
        cause: error,
      });
    });
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const flow: OidcFlow = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier,
      next: opts.next,
      inviteId: opts.inviteId,
      expiresAt: Date.now() + FLOW_TTL_MS,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: "openid email profile",
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state: flow.state,
      nonce: flow.nonce,
    });
    return { url: url.href, cookie: flowCookie(flow, this.flowKey, opts.secure) };
  }

  /** Checks the provider's answer against the flow's cookie (state, nonce, PKCE), exchanges the
   * code and reads who signed in. Throws SingleSignOnError. */
  async finish(currentUrl: URL, cookieHeader: string | undefined): Promise<{ claims: ProviderClaims; flow: OidcFlow }> {
    const flow = flowFrom(cookieHeader, this.flowKey);
    if (!flow) throw new SingleSignOnError("This sign-in took too long or was not started here; try again.");
    const config = await this.configuration().catch((error) => {
      throw new SingleSignOnError(`${this.name} cannot be reached right now; try again later.`, { cause: error });
    });
    try {
      const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw new Error("no ID token");
      // Many providers put email and name only in the userinfo answer.
      const info = config.serverMetadata().userinfo_endpoint ? await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub) : {};
      const all: Record<string, unknown> = { ...idClaims, ...info };
      const email = emailSchema.safeParse(all.email);
      return {
        flow,
        claims: {
          issuer: config.serverMetadata().issuer,
          subject: idClaims.sub,
          email: email.success ? email.data : null,
          // Some providers send the boolean as a string.
          emailVerified: all.email_verified === true || all.email_verified === "true",
          name: displayName(all),
        },
      };
    } catch (error) {
      if (error instanceof oidc.AuthorizationResponseError)
        throw new SingleSignOnError(`${this.name} did not sign you in: ${error.error_description ?? error.error}`, { cause: error });
      throw new SingleSignOnError(`Signing in with ${this.name} failed; try again.`, { cause: error });
    }
  }

  clearedCookie(secure: boolean): string {
    return clearedFlowCookie(secure);
  }

  private configuration(): Promise<oidc.Configuration> {
    if (this.config) return Promise.resolve(this.config);
    if (this.discovering) return this.discovering;
    if (this.lastFailure && Date.now() - this.failedAt < RETRY_AFTER_MS) return Promise.reject(this.lastFailure);
    const { issuer, clientId, clientSecret } = this.settings;
    const server = new URL(issuer);
    this.discovering = oidc
      .discovery(server, clientId, undefined, clientSecret ? oidc.ClientSecretPost(clientSecret) : oidc.None(), {
        timeout: DISCOVERY_TIMEOUT_S,
        // A plain-HTTP issuer is for a provider on this machine (tests, development).
        execute: server.protocol === "http:" ? [oidc.allowInsecureRequests] : [],
      })
      .then(
        (config) => {
          this.config = config;
          this.lastFailure = undefined;
          return config;
        },
        (error: Error) => {
          console.warn(`gateway: single sign-on: discovery at ${issuer} failed (${error.message}); trying again on a later sign-in`);
          this.failedAt = Date.now();
          this.lastFailure = error;
          throw error;
        },
      )
      .finally(() => {
        this.discovering = undefined;
      });
    return this.discovering;
  }
}

function displayName(claims: Record<string, unknown>): string | null {
  const given = [claims.given_name, claims.family_name].filter((p) => typeof p === "string" && p).join(" ");
  const name = [claims.name, claims.preferred_username, given].find((n): n is string => typeof n === "string" && n.trim() !== "");
  return name ? name.trim().slice(0, 200) : null;
}
