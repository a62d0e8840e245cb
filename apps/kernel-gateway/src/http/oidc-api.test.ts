// Single sign-on against a real OpenID Connect provider (oidc-provider, its development sign-in
// pages): a browser is played by fetch with a cookie jar, following redirects as Chromium would.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SingleSignOn } from "../auth/single-sign-on";
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "../testing/oidc-test-client";
import { startTestOidcProvider, type TestOidcProvider } from "../testing/oidc-test-provider";
import { sameOriginPath } from "./oidc-api";
import { startTestApp, TEST_TOKEN, type TestApp } from "./test-app";

/** Cookies by name, sent to every host (the provider and the gateway are both 127.0.0.1, and
 * browsers share cookies across ports too; their names differ). */
class Browser {
  private cookies = new Map<string, string>();

  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, {
      ...init,
      redirect: "manual",
      headers: { ...(init.headers as Record<string, string>), cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const [name, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
      const gone = value === "" || attrs.some((a) => /max-age=0\b/i.test(a.trim()) || /expires=thu, 01 jan 1970/i.test(a.trim()));
      if (gone) this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value);
    }
    return res;
  }

  /** Follows redirects from `url`, signing in at the provider as `login` when its pages ask,
   * until a redirect leaves for a gateway page (not its API) or for `stopAt`: that URL. */
  async walk(url: string, opts: { login?: string; base: string; stopAt?: (u: URL) => boolean }): Promise<URL> {
    let at = new URL(url);
    for (let hop = 0; hop < 20; hop++) {
      if (opts.stopAt?.(at) || (at.origin === opts.base && !at.pathname.startsWith("/api/"))) return at;
      let res = await this.get(at.href);
      if (res.status === 200 && at.pathname.startsWith("/interaction/")) {
        const page = await res.text();
        const prompt = page.includes('value="login"') ? "login" : "consent";
        const form = new URLSearchParams({ prompt, ...(prompt === "login" ? { login: opts.login ?? "nobody", password: "x" } : {}) });
        res = await this.get(at.href, { method: "POST", body: form, headers: { "content-type": "application/x-www-form-urlencoded" } });
      }
      const location = res.headers.get("location");
      if (!location) throw new Error(`${at.href} answered ${res.status} without a redirect: ${(await res.text()).slice(0, 300)}`);
      at = new URL(location, at);
    }
    throw new Error("too many redirects");
  }

  async me(base: string): Promise<{ id: string; name: string; email: string | null } | null> {
    const res = await this.get(`${base}/api/auth/me`);
    return res.ok ? (await res.json()).user : null;
  }
}

const owner = { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" };

let provider: TestOidcProvider;
/** Existing users and invites only. */
let gateway: TestApp;
/** CELLAR_OIDC_ALLOW_SIGNUP=true. */
let open: TestApp;

beforeAll(async () => {
  provider = await startTestOidcProvider();
  const settings = { issuer: provider.issuer, clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET, name: "Acme ID" };
  gateway = await startTestApp({ deps: () => ({ singleSignOn: new SingleSignOn({ ...settings, allowSignup: false }, "key") }) });
  open = await startTestApp({ deps: () => ({ singleSignOn: new SingleSignOn({ ...settings, allowSignup: true }, "key") }) });
  provider.register([gateway, open].map((g) => `${g.base}/api/auth/oidc/callback`));
});
afterAll(async () => {
  await gateway?.close();
  await open?.close();
  await provider?.close();
});

const start = (base: string, query = "") => `${base}/api/auth/oidc/start${query}`;
const errorOf = (at: URL) => (at.pathname === "/login/" ? at.searchParams.get("error") : null);

async function invite(base = gateway.base): Promise<string> {
  return (await (await fetch(`${base}/api/invites`, { method: "POST", headers: owner, body: "{}" })).json()).token;
}

async function passwordAccount(email: string): Promise<string> {
  const res = await fetch(`${gateway.base}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ invite: await invite(), name: "Pat", email, password: "a long password" }),
  });
  return (await res.json()).user.id;
}

describe("single sign-on through OpenID Connect", () => {
  it("the login page learns the provider's name and that it answers", async () => {
    expect(await (await fetch(`${gateway.base}/api/auth/providers`)).json()).toEqual({ oidc: { name: "Acme ID", reachable: true } });
  });

  it("refuses someone without an account or invite, saying so on the login page", async () => {
    provider.people.set("stranger", { email: "stranger@example.com", email_verified: true, name: "Stranger" });
    const browser = new Browser();
    const at = await browser.walk(start(gateway.base), { login: "stranger", base: gateway.base });
    expect(errorOf(at)).toMatch(/no account here for stranger@example.com/i);
    expect(await browser.me(gateway.base)).toBeNull();
    expect(await gateway.db.accounts.findUserByEmail("stranger@example.com")).toBeNull();
  });

  it("with an invite makes a member, signed in; the next sign-in is the same user", async () => {
    provider.people.set("grace", { email: "Grace@Example.com", email_verified: true, name: "Grace Hopper" });
    const browser = new Browser();
    const token = await invite();
    const at = await browser.walk(start(gateway.base, `?invite=${token}`), { login: "grace", base: gateway.base });
    expect(at.pathname).toBe("/");
    const grace = await browser.me(gateway.base);
    expect(grace).toMatchObject({ name: "Grace Hopper", email: "grace@example.com" });
    // The invite is used up.
    expect((await fetch(`${gateway.base}/api/invites/${token}`)).status).toBe(410);

    const later = new Browser();
    expect((await later.walk(start(gateway.base), { login: "grace", base: gateway.base })).pathname).toBe("/");
    expect((await later.me(gateway.base))?.id).toBe(grace?.id);
  });

  it("a sign-in replaces the browser's previous session (rotated cookie)", async () => {
    provider.people.set("rota", { email: "rota@example.com", email_verified: true });
    const browser = new Browser();
    await browser.walk(start(gateway.base, `?invite=${await invite()}`), { login: "rota", base: gateway.base });
    const first = await browser.me(gateway.base);
    const before = (await gateway.db.prisma.authSession.findMany({ where: { userId: first!.id } })).length;
    await browser.walk(start(gateway.base), { login: "rota", base: gateway.base });
    expect((await gateway.db.prisma.authSession.findMany({ where: { userId: first!.id } })).length).toBe(before);
    expect((await browser.me(gateway.base))?.id).toBe(first?.id);
  });

  it("a verified email signs in the password account that has it, and links it", async () => {
    const userId = await passwordAccount("pat@example.com");
    provider.people.set("pat-at-acme", { email: "pat@example.com", email_verified: true });
    const browser = new Browser();
    await browser.walk(start(gateway.base), { login: "pat-at-acme", base: gateway.base });
    expect((await browser.me(gateway.base))?.id).toBe(userId);
    expect(await gateway.db.identities.findUser({ issuer: provider.issuer, subject: "pat-at-acme", email: null })).toMatchObject({
      id: userId,
    });
  });

  it("an email the provider has not verified is not matched to the password account that has it", async () => {
    const userId = await passwordAccount("victim@example.com");
    provider.people.set("mallory", { email: "victim@example.com", email_verified: false });
    const browser = new Browser();
    const at = await browser.walk(start(gateway.base), { login: "mallory", base: gateway.base });
    expect(errorOf(at)).toMatch(/not verified victim@example.com/);
    expect(await browser.me(gateway.base)).toBeNull();
    expect(await gateway.db.identities.findUser({ issuer: provider.issuer, subject: "mallory", email: null })).toBeNull();

    // Even where anyone may sign up, it makes a separate account without the email.
    const elsewhere = new Browser();
    await elsewhere.walk(start(open.base), { login: "mallory", base: open.base });
    const made = await elsewhere.me(open.base);
    expect(made).toMatchObject({ email: null });
    expect(made?.id).not.toBe(userId);
  });

  it("where sign-up is allowed, a new person becomes a member on first sign-in", async () => {
    provider.people.set("newcomer", { email: "new@example.com", email_verified: true, name: "New Comer" });
    const browser = new Browser();
    expect((await browser.walk(start(open.base), { login: "newcomer", base: open.base })).pathname).toBe("/");
    expect(await browser.me(open.base)).toMatchObject({ name: "New Comer", email: "new@example.com" });
    expect((await open.db.accounts.findUserByEmail("new@example.com"))?.role).toBe("member");
  });

  it("a callback whose state is not the browser's own is refused", async () => {
    provider.people.set("grace", { email: "grace@example.com", email_verified: true });
    const atCallback = (u: URL) => u.pathname === "/api/auth/oidc/callback";
    const browser = new Browser();
    const callback = await browser.walk(start(gateway.base), { login: "grace", base: gateway.base, stopAt: atCallback });
    const forged = new URL(callback);
    forged.searchParams.set("state", "someone-elses-state");
    const res = await browser.get(forged.href);
    expect(errorOf(new URL(res.headers.get("location")!, gateway.base))).toMatch(/failed; try again/);
    expect(await browser.me(gateway.base)).toBeNull();

    // Another browser's callback (a link someone was sent) is worth nothing without its cookie.
    const other = new Browser();
    const theirs = await other.walk(start(gateway.base), { login: "grace", base: gateway.base, stopAt: atCallback });
    const replayed = await new Browser().get(theirs.href);
    expect(errorOf(new URL(replayed.headers.get("location")!, gateway.base))).toMatch(/not started here/);
  });

  it("comes back to next only on this origin", async () => {
    provider.people.set("grace", { email: "grace@example.com", email_verified: true });
    const browser = new Browser();
    const next = "/notebook/?id=nb1";
    const at = await browser.walk(start(gateway.base, `?next=${encodeURIComponent(next)}`), { login: "grace", base: gateway.base });
    expect(at.pathname + at.search).toBe(next);
    for (const evil of ["https://evil.example/", "//evil.example/", "/\\evil.example/", "/.//evil.example"]) {
      const to = await browser.walk(start(gateway.base, `?next=${encodeURIComponent(evil)}`), { login: "grace", base: gateway.base });
      expect(to.href).toBe(`${gateway.base}/`);
    }
  });

  it("says when the provider cannot be reached, and the gateway serves on", async () => {
    const down = await startTestApp({
      deps: () => ({
        singleSignOn: new SingleSignOn(
          { issuer: "http://127.0.0.1:9", clientId: "x", clientSecret: "y", name: "Down ID", allowSignup: false },
          "key",
        ),
      }),
    });
    try {
      expect(await (await fetch(`${down.base}/api/auth/providers`)).json()).toEqual({ oidc: { name: "Down ID", reachable: false } });
      const res = await fetch(start(down.base), { redirect: "manual" });
      expect(errorOf(new URL(res.headers.get("location")!, down.base))).toMatch(/Down ID cannot be reached/);
    } finally {
      await down.close();
    }
  });
});

describe("single sign-on's rate limit", () => {
  it("after 20 starts or 20 callbacks a minute from one address, the next is refused with 429, saying why", async () => {
    // A gateway of its own: the limit is per replica, and the other tests' sign-ins must not count.
    const settings = { issuer: provider.issuer, clientId: TEST_CLIENT_ID, clientSecret: TEST_CLIENT_SECRET, name: "Acme ID" };
    const limited = await startTestApp({ deps: () => ({ singleSignOn: new SingleSignOn({ ...settings, allowSignup: false }, "key") }) });
    try {
      for (const url of [start(limited.base), `${limited.base}/api/auth/oidc/callback?code=x&state=y`]) {
        const statuses: number[] = [];
        for (let i = 0; i < 20; i++) statuses.push((await fetch(url, { redirect: "manual" })).status);
        expect(statuses.every((s) => s === 302)).toBe(true);
        const refused = await fetch(url, { redirect: "manual" });
        expect(refused.status).toBe(429);
        expect((await refused.json()).error).toMatch(/^Too many tries from this address; try again in 1 minute\.$/);
      }
    } finally {
      await limited.close();
    }
  });
});

describe("sameOriginPath", () => {
  it("keeps a path on this origin, and nothing else", () => {
    expect(sameOriginPath("/notebook/?id=a#c1")).toBe("/notebook/?id=a#c1");
    for (const next of [
      undefined,
      "",
      "https://evil.example",
      "//evil.example",
      "/\\evil.example",
      "/\t/evil.example",
      "/.//evil.example",
      "/login/",
    ])
      expect(sameOriginPath(next), String(next)).toBe("/");
  });
});
