import { describe, expect, it } from "vitest";
import { loadConfig } from "./config";

describe("single sign-on settings", () => {
  it("are off unless an issuer is given", () => {
    expect(loadConfig({}).oidc).toBeUndefined();
  });

  it("take the client and defaults: a generic label, no open sign-up", () => {
    expect(
      loadConfig({ CELLAR_OIDC_ISSUER: "https://id.example.com", CELLAR_OIDC_CLIENT_ID: "cellar", CELLAR_OIDC_CLIENT_SECRET: "s" }).oidc,
    ).toEqual({
      issuer: "https://id.example.com",
      clientId: "cellar",
      clientSecret: "s",
      name: "Single sign-on",
      allowSignup: false,
    });
    const named = loadConfig({
      CELLAR_OIDC_ISSUER: "https://id.example.com",
      CELLAR_OIDC_CLIENT_ID: "cellar",
      CELLAR_OIDC_NAME: "Acme ID",
      CELLAR_OIDC_ALLOW_SIGNUP: "true",
    }).oidc;
    expect(named).toMatchObject({ name: "Acme ID", allowSignup: true, clientSecret: undefined });
  });

  it("refuse to start half-configured", () => {
    expect(() => loadConfig({ CELLAR_OIDC_ISSUER: "https://id.example.com" })).toThrow(/CELLAR_OIDC_CLIENT_ID/);
    expect(() => loadConfig({ CELLAR_OIDC_ISSUER: "id.example.com", CELLAR_OIDC_CLIENT_ID: "c" })).toThrow(/not a URL/);
  });
});
