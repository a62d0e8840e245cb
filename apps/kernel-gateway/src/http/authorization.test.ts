// Who may call each route of the route table, walked for every route: nobody signed in, a member
// acting on the owner's notebook (and on owner-only routes), and the owner. The table is keyed by
// every route name, so a new route without an entry does not compile, and the walk checks the
// table and the route table agree.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRoutes, type ApiRouteName } from "@cellar/protocol";
import { newToken, SESSION_COOKIE, sessionExpiry, tokenId } from "../auth/session-tokens";
import { startTestApp, TEST_TOKEN, type TestApp } from "./test-app";

/** open: needs nobody; anyone: any signed-in user, on their own things; owner: instance owners
 * only; notebook: the notebook's owner only (404 to anyone else, as if it did not exist). */
type Access = "open" | "anyone" | "owner" | "notebook";

const ACCESS: Record<ApiRouteName, Access> = {
  health: "open",
  ready: "open",
  me: "anyone",
  login: "open",
  logout: "anyone",
  logoutEverywhere: "anyone",
  setCredentials: "anyone",
  signup: "open",
  authProviders: "open",
  oidcStart: "open",
  oidcCallback: "open",
  listAccessTokens: "anyone",
  createAccessToken: "anyone",
  deleteAccessToken: "anyone",
  checkInvite: "open",
  listInvites: "owner",
  createInvite: "owner",
  deleteInvite: "owner",
  listImages: "anyone",
  listWorkers: "anyone",
  dropWorkerCaches: "owner",
  listNotebooks: "anyone",
  createNotebook: "anyone",
  importNotebook: "anyone",
  getNotebook: "notebook",
  updateNotebook: "notebook",
  deleteNotebook: "notebook",
  exportNotebook: "notebook",
  duplicateNotebook: "notebook",
  suspendKernel: "notebook",
  listFiles: "notebook",
  deleteFile: "notebook",
  downloadFile: "notebook",
  uploadFile: "notebook",
  createFolder: "notebook",
  renameFile: "notebook",
};

let gateway: TestApp;
let ownersNotebook: string;
let memberId: string;

beforeAll(async () => {
  gateway = await startTestApp();
  const owner = { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" };
  ownersNotebook = (await (await fetch(`${gateway.base}/api/notebooks`, { method: "POST", headers: owner, body: "{}" })).json()).id;
  const invite = await (await fetch(`${gateway.base}/api/invites`, { method: "POST", headers: owner, body: "{}" })).json();
  const signup = await fetch(`${gateway.base}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ invite: invite.token, name: "Member", email: "member@example.com", password: "a member password" }),
  });
  memberId = (await signup.json()).user.id;
});

/** A fresh session of the member for each call: the walk signs out, too. */
async function memberCookie(): Promise<string> {
  const token = newToken();
  await gateway.db.accounts.createSession({ id: tokenId(token), userId: memberId, expiresAt: sessionExpiry() });
  return `${SESSION_COOKIE}=${token}`;
}
afterAll(() => gateway.close());

/** The route's URL with its params filled: the owner's notebook, made-up ids elsewhere. */
function urlOf(name: ApiRouteName): string {
  return apiRoutes[name].url
    .replace(":id", name === "deleteAccessToken" || name === "deleteInvite" ? "some-id" : ownersNotebook)
    .replace(":token", "some-token");
}

async function call(name: ApiRouteName, headers: Record<string, string>): Promise<number> {
  const { method } = apiRoutes[name];
  const res = await fetch(gateway.base + urlOf(name), {
    method,
    headers: { ...headers, ...(method === "GET" ? {} : { origin: gateway.base, "content-type": "application/json" }) },
    body: method === "GET" ? undefined : "{}",
  });
  return res.status;
}

describe("authorization of every route", () => {
  it("the table names every route of the route table, and only those", () => {
    expect(Object.keys(ACCESS).sort()).toEqual(Object.keys(apiRoutes).sort());
  });

  for (const name of Object.keys(apiRoutes) as ApiRouteName[]) {
    it(`${apiRoutes[name].method} ${apiRoutes[name].url} (${ACCESS[name]})`, async () => {
      const access = ACCESS[name];
      const signedOut = await call(name, {});
      if (access === "open") expect(signedOut).not.toBe(401);
      else expect(signedOut).toBe(401);

      const asMember = await call(name, { cookie: await memberCookie() });
      if (access === "notebook") expect(asMember).toBe(404);
      else if (access === "owner") expect(asMember).toBe(403);
      else expect([401, 403]).not.toContain(asMember);

      // The owner is let through (what the request then lacks, or a walked DELETE took away, is
      // the route's own business).
      const asOwner = await call(name, { authorization: `Bearer ${TEST_TOKEN}` });
      expect([401, 403]).not.toContain(asOwner);
    });
  }
});
