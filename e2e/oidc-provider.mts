// The e2e suite's OpenID Connect provider (oidc-provider with its development sign-in pages, the
// gateway tests' own), on CELLAR_E2E_OIDC_PORT, with the suite's gateway as its one client.
// Everyone signs in with any password; "grace" has a verified email and a name.
import { startTestOidcProvider } from "../apps/kernel-gateway/src/testing/oidc-test-provider";

const provider = await startTestOidcProvider(Number(process.env.CELLAR_E2E_OIDC_PORT));
provider.people.set("grace", { email: "grace@example.com", email_verified: true, name: "Grace Hopper" });
provider.register([`${process.env.CELLAR_E2E_GATEWAY_URL}/api/auth/oidc/callback`]);
console.log(`e2e OpenID Connect provider at ${provider.issuer}`);
