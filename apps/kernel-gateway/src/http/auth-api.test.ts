// Accounts through the real HTTP app and a real SQLite database: the printed URL signs the owner
// in, invites are single-use and expire, members sign up and in, sessions end (everywhere), a
// member sees only their own notebooks, cross-site writes and password guessing are refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenId } from "../auth/session-tokens";
import { startTestApp, TEST_TOKEN, type TestApp } from "./test-app";

let gateway: TestApp;
let base: string;

beforeAll(async () => {
  gateway = await startTestApp({ webFiles: { "index.html": "<h1>web app</h1>", "login.html": "<h1>login</h1>" } });
  base = gateway.base;
});
afterAll(() => gateway.close());

/** A browser: keeps the session cookie it is given, sends its own origin on writes. */
function browser() {
  let cookie = "";
  const call = async (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (cookie) headers.set("cookie", cookie);
    if (json !== undefined) headers.set("content-type", "application/json");
    if (rest.method && rest.method !== "GET" && !headers.has("origin")) headers.set("origin", base);
    const res = await fetch(base + path, {
      redirect: "manual",
      ...rest,
      headers,
      body: json === undefined ? rest.body : JSON.stringify(json),
    });
    const set = res.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0].endsWith("=") ? "" : set.split(";")[0];
    return res;
  };
  return { call, cookie: () => cookie, setCookie: (c: string) => (cookie = c) };
}

const owner = async () => {
  const b = browser();
  expect((await b.call(`/?token=${TEST_TOKEN}`)).status).toBe(302);
  return b;
};

async function member(name: string, email: string) {
  const o = await owner();
  const invite = await (await o.call("/api/invites", { method: "POST", json: {} })).json();
  const b = browser();
  const res = await b.call("/api/auth/signup", {
    method: "POST",
    json: { invite: invite.token, name, email, password: "correct horse battery" },
  });
  expect(res.status).toBe(200);
  return b;
}

describe("accounts", () => {
  it("the printed URL signs the owner in with a session cookie, not the token", async () => {
    const o = await owner();
    expect(o.cookie()).toMatch(/^cellar_session=/);
    expect(o.cookie()).not.toContain(TEST_TOKEN);
    const me = await (await o.call("/api/auth/me")).json();
    expect(me.user).toMatchObject({ id: gateway.db.localUserId, role: "owner" });
  });

  it("a signed-out page goes to the login page, which is served; the API answers 401", async () => {
    const page = await fetch(`${base}/notebook/?id=x`, { redirect: "manual" });
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe(`/login/?next=${encodeURIComponent("/notebook/?id=x")}`);
    expect(await (await fetch(`${base}/login`)).text()).toContain("login");
    expect((await fetch(`${base}/api/auth/me`)).status).toBe(401);
  });

  it("an invite makes one member: the link works once, says who sent it, and a used or expired one is refused", async () => {
    const o = await owner();
    const created = await o.call("/api/invites", { method: "POST", json: { expiresInHours: 24 } });
    expect(created.status).toBe(201);
    const invite = await created.json();
    expect(invite.url).toBe(`${base}/signup/?invite=${invite.token}`);
    expect(await (await fetch(`${base}/api/invites/${invite.token}`)).json()).toMatchObject({ invitedBy: "Local user" });

    const ada = browser();
    const signup = await ada.call("/api/auth/signup", {
      method: "POST",
      json: { invite: invite.token, name: "Ada", email: "Ada@Example.com", password: "correct horse battery" },
    });
    expect(signup.status).toBe(200);
    expect((await (await ada.call("/api/auth/me")).json()).user).toMatchObject({ name: "Ada", email: "ada@example.com", role: "member" });

    const again = await browser().call("/api/auth/signup", {
      method: "POST",
      json: { invite: invite.token, name: "Eve", email: "eve@example.com", password: "correct horse battery" },
    });
    expect(again.status).toBe(410);
    expect((await again.json()).error).toMatch(/already been used/);
    expect((await fetch(`${base}/api/invites/${invite.token}`)).status).toBe(410);

    const expired = "expired-invite-token";
    await gateway.db.accounts.createInvite({
      id: tokenId(expired),
      createdById: gateway.db.localUserId,
      expiresAt: new Date(Date.now() - 1000),
    });
    const late = await browser().call("/api/auth/signup", {
      method: "POST",
      json: { invite: expired, name: "Bob", email: "bob@example.com", password: "correct horse battery" },
    });
    expect(late.status).toBe(410);
    expect((await late.json()).error).toMatch(/expired/);
  });

  it("a member signs in with email and password; a wrong one is refused with the same words as an unknown email", async () => {
    await member("Grace", "grace@example.com");
    const b = browser();
    const wrong = await b.call("/api/auth/login", { method: "POST", json: { email: "grace@example.com", password: "not it at all" } });
    const unknown = await b.call("/api/auth/login", { method: "POST", json: { email: "nobody@example.com", password: "not it at all" } });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect((await wrong.json()).error).toBe((await unknown.json()).error);
    const ok = await b.call("/api/auth/login", { method: "POST", json: { email: "GRACE@example.com", password: "correct horse battery" } });
    expect(ok.status).toBe(200);
    expect((await (await b.call("/api/auth/me")).json()).user.name).toBe("Grace");
  });

  it("signing in gives a new session and ends the one the browser had (no fixation)", async () => {
    const b = await member("Linus", "linus@example.com");
    const before = b.cookie();
    await b.call("/api/auth/login", { method: "POST", json: { email: "linus@example.com", password: "correct horse battery" } });
    expect(b.cookie()).not.toBe(before);
    const stale = browser();
    stale.setCookie(before);
    expect((await stale.call("/api/auth/me")).status).toBe(401);
  });

  it("sign out ends this session; sign out everywhere ends every session of the user", async () => {
    const first = await member("Ken", "ken@example.com");
    const second = browser();
    await second.call("/api/auth/login", { method: "POST", json: { email: "ken@example.com", password: "correct horse battery" } });
    const third = browser();
    await third.call("/api/auth/login", { method: "POST", json: { email: "ken@example.com", password: "correct horse battery" } });
    const thirdCookie = third.cookie();
    expect((await third.call("/api/auth/logout", { method: "POST" })).status).toBe(204);
    const revived = browser();
    revived.setCookie(thirdCookie);
    expect((await revived.call("/api/auth/me")).status).toBe(401);
    expect((await first.call("/api/auth/me")).status).toBe(200);
    const firstCookie = first.cookie();
    expect((await second.call("/api/auth/logout-everywhere", { method: "POST" })).status).toBe(204);
    first.setCookie(firstCookie);
    expect((await first.call("/api/auth/me")).status).toBe(401);
  });

  it("a member sees only their own notebooks: another's is not found, and only owners make invites", async () => {
    const o = await owner();
    const mine = await (await o.call("/api/notebooks", { method: "POST", json: { title: "owner's" } })).json();
    const m = await member("Barbara", "barbara@example.com");
    expect((await m.call(`/api/notebooks/${mine.id}`)).status).toBe(404);
    expect((await m.call(`/api/notebooks/${mine.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await m.call(`/api/notebooks/${mine.id}/export`)).status).toBe(404);
    const theirs = await (await m.call("/api/notebooks", { method: "POST", json: { title: "member's" } })).json();
    expect((await (await m.call("/api/notebooks")).json()).map((n: { title: string }) => n.title)).toEqual(["member's"]);
    expect((await o.call(`/api/notebooks/${theirs.id}`)).status).toBe(404);
    expect((await m.call("/api/invites", { method: "POST", json: {} })).status).toBe(403);
    expect((await m.call("/api/workers/drop-cache", { method: "POST" })).status).toBe(403);
  });

  it("refuses a state-changing request from another site, even with a valid session", async () => {
    const o = await owner();
    const res = await o.call("/api/notebooks", { method: "POST", json: {}, headers: { origin: "http://evil.example" } });
    expect(res.status).toBe(403);
    expect((await res.json()).error).toMatch(/Cross-site/);
    expect((await o.call("/api/notebooks", { method: "POST", json: {} })).status).toBe(201);
  });

  it("slows password guessing: after 10 tries a minute from one address for one email, 429", async () => {
    const b = browser();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push(
        (await b.call("/api/auth/login", { method: "POST", json: { email: "target@example.com", password: `guess ${i}` } })).status,
      );
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  it("the owner who came in by the printed URL sets an email and password, then signs in with them", async () => {
    const o = await owner();
    const set = await o.call("/api/auth/credentials", {
      method: "PUT",
      json: { email: "owner@example.com", password: "a long owner password" },
    });
    expect(set.status).toBe(200);
    const b = browser();
    expect(
      (await b.call("/api/auth/login", { method: "POST", json: { email: "owner@example.com", password: "a long owner password" } })).status,
    ).toBe(200);
    expect((await (await b.call("/api/auth/me")).json()).user.role).toBe("owner");
    const short = await o.call("/api/auth/credentials", { method: "PUT", json: { email: "owner@example.com", password: "short" } });
    expect(short.status).toBe(400);
  });

  it("a personal access token signs its user in for the CLI and API until revoked; only a signed-in browser makes one", async () => {
    const m = await member("Hopper", "hopper@example.com");
    await m.call("/api/notebooks", { method: "POST", json: { title: "hopper's" } });
    const made = await m.call("/api/auth/tokens", { method: "POST", json: { name: "laptop", expiresInDays: 30 } });
    expect(made.status).toBe(201);
    const token = await made.json();
    expect(token.token).toMatch(/^cellar_pat_/);
    const bearer = { authorization: `Bearer ${token.token}` };
    expect((await (await fetch(`${base}/api/auth/me`, { headers: bearer })).json()).user.name).toBe("Hopper");
    expect((await (await fetch(`${base}/api/notebooks`, { headers: bearer })).json()).map((n: { title: string }) => n.title)).toEqual([
      "hopper's",
    ]);
    const listed = await (await m.call("/api/auth/tokens")).json();
    expect(listed).toEqual([expect.objectContaining({ id: token.id, name: "laptop", lastUsedAt: expect.any(String) })]);
    expect(JSON.stringify(listed)).not.toContain(token.token);

    // A token cannot make more tokens, and nobody else can revoke it.
    const more = await fetch(`${base}/api/auth/tokens`, {
      method: "POST",
      headers: { ...bearer, "content-type": "application/json" },
      body: '{"name":"x"}',
    });
    expect(more.status).toBe(403);
    expect((await (await owner()).call(`/api/auth/tokens/${token.id}`, { method: "DELETE" })).status).toBe(404);

    // In a page's URL it starts a browser session for its user, like the printed URL does.
    const page = await fetch(`${base}/?token=${token.token}`, { redirect: "manual" });
    expect(page.status).toBe(302);
    const viaPage = browser();
    viaPage.setCookie(page.headers.get("set-cookie")!.split(";")[0]);
    expect((await (await viaPage.call("/api/auth/me")).json()).user.name).toBe("Hopper");

    expect((await m.call(`/api/auth/tokens/${token.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await fetch(`${base}/api/auth/me`, { headers: bearer })).status).toBe(401);
    const expired = "cellar_pat_expired";
    await gateway.db.accessTokens.create({
      id: tokenId(expired),
      userId: gateway.db.localUserId,
      name: "old",
      expiresAt: new Date(Date.now() - 1000),
    });
    expect((await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${expired}` } })).status).toBe(401);
  });
});
