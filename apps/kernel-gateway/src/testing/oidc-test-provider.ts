// A real OpenID Connect provider (oidc-provider) on a free local port, for tests: one client
// (id "cellar", a secret), people by login name with the claims the test gives them, and the
// library's development sign-in pages (any password). The issuer is known before the redirect
// URIs are: `register` adds the client once the gateways under test listen.
import http from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "./oidc-test-client";

export interface TestPerson {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface TestOidcProvider {
  issuer: string;
  /** Who signs in as `login` (their subject is the login name). */
  people: Map<string, TestPerson>;
  register(redirectUris: string[]): void;
  close(): Promise<void>;
}

/** `port`: 0 (default) for a free one. */
export async function startTestOidcProvider(port = 0): Promise<TestOidcProvider> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const people = new Map<string, TestPerson>();
  let handler: ReturnType<Provider["callback"]> | undefined;
  server.on("request", (req, res) => {
    if (handler) return handler(req, res);
    res.writeHead(503).end("no client registered yet");
  });
  return {
    issuer,
    people,
    register(redirectUris) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: TEST_CLIENT_ID,
            client_secret: TEST_CLIENT_SECRET,
            redirect_uris: redirectUris,
            token_endpoint_auth_method: "client_secret_post",
          },
        ],
        claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
        findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, ...people.get(sub) }) }),
        cookies: { keys: ["a cookie key for tests"] },
        // Set, so the library does not note its defaults on every sign-in.
        ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
      });
      handler = provider.callback();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
