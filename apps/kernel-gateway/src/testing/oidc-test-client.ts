// The client the test OpenID Connect provider registers, apart from the provider itself so that
// whoever configures a gateway with it (the e2e config) does not load oidc-provider.
export const TEST_CLIENT_ID = "cellar";
export const TEST_CLIENT_SECRET = "a client secret for tests";
