// Who may call each route of the route table, walked for every route: nobody signed in, a guest
// holding a view link, a member with no grant, members with a viewer's, runner's and editor's
// grant, and the owner. The table is keyed by every route name, so a new route without an entry
// does not compile; a notebook route's least role is the one the route table gives it (the fact
// the gateway enforces), and the walk checks the table and the route table agree.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRoutes, roleAtLeast, SHARE_LINK_HEADER, type ApiRoute, type ApiRouteName, type SharedRole } from "@cellar/protocol";
import { newToken, SESSION_COOKIE, sessionExpiry, tokenId } from "../auth/session-tokens";
import { startTestApp, TEST_TOKEN, type TestApp } from "./test-app";

/** open: needs nobody; anyone: any signed-in user, on their own things; owner: instance owners
 * only; notebook: callers with at least the route's role on the notebook (404 to those with no
 * role, as if it did not exist; 403 to a weaker role); schedule-view: a schedule's or run's, for
 * its owner and whoever may view its notebook (404 to others); schedule-change: its owner's and
 * the notebook owner's (403 to other roles on the notebook, 404 to those with none). */
type Access = "open" | "anyone" | "owner" | "notebook" | "schedule-view" | "schedule-change";

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
  buildImage: "owner",
  imageBuildLog: "anyone",
  listWorkers: "anyone",
  dropWorkerCaches: "owner",
  listNotebooks: "anyone",
  createNotebook: "anyone",
  importNotebook: "anyone",
  getNotebook: "notebook",
  updateNotebook: "notebook",
  deleteNotebook: "notebook",
  exportNotebook: "notebook",
  exportNotebookHtml: "notebook",
  duplicateNotebook: "notebook",
  saveNotebookImage: "notebook",
  suspendKernel: "notebook",
  listFiles: "notebook",
  deleteFile: "notebook",
  downloadFile: "notebook",
  uploadFile: "notebook",
  createFolder: "notebook",
  renameFile: "notebook",
  listGrants: "notebook",
  addGrant: "notebook",
  updateGrant: "notebook",
  removeGrant: "notebook",
  listShareLinks: "notebook",
  createShareLink: "notebook",
  revokeShareLink: "notebook",
  listNotebookSchedules: "notebook",
  createSchedule: "notebook",
  listNotebookRuns: "notebook",
  listSchedules: "anyone",
  getSchedule: "schedule-view",
  updateSchedule: "schedule-change",
  deleteSchedule: "schedule-change",
  pauseSchedule: "schedule-change",
  resumeSchedule: "schedule-change",
  runScheduleNow: "schedule-change",
  listScheduleRuns: "schedule-view",
  getRun: "schedule-view",
  cancelRun: "schedule-change",
  runDiff: "schedule-view",
  listNotices: "anyone",
  markNoticesRead: "anyone",
};

const GRANTED: SharedRole[] = ["viewer", "runner", "editor"];
const owner = { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" };

let gateway: TestApp;
/** Members by the grant each gets on every walked notebook ("none": no grant). */
const members = new Map<SharedRole | "none", { id: string; email: string }>();

beforeAll(async () => {
  gateway = await startTestApp();
  for (const grant of ["none", ...GRANTED] as const) {
    const invite = await (await fetch(`${gateway.base}/api/invites`, { method: "POST", headers: owner, body: "{}" })).json();
    const email = `${grant}@example.com`;
    const signup = await fetch(`${gateway.base}/api/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ invite: invite.token, name: `Member ${grant}`, email, password: "a member password" }),
    });
    members.set(grant, { id: (await signup.json()).user.id, email });
  }
});
afterAll(() => gateway.close());

interface Walked {
  id: string;
  viewLink: string;
  scheduleId: string;
  runId: string;
}

/** A notebook of the owner's, shared with the members by their grants, a view link to it, and a
 * schedule of the owner's on it with a queued run. */
async function sharedNotebook(): Promise<Walked> {
  const id = (await (await fetch(`${gateway.base}/api/notebooks`, { method: "POST", headers: owner, body: "{}" })).json()).id;
  for (const role of GRANTED) await gateway.db.shares.grant(id, members.get(role)!.email, role);
  const link = await gateway.db.shares.createLink({ notebookId: id, role: "viewer", createdById: gateway.db.localUserId, expiresAt: null });
  const schedule = await gateway.db.schedules.create({
    notebookId: id,
    ownerId: gateway.db.localUserId,
    name: "Walked",
    cron: "0 9 * * *",
    timezone: "UTC",
  });
  const run = await gateway.db.schedules.runNow(schedule.id);
  return { id, viewLink: link.secret, scheduleId: schedule.id, runId: run!.id };
}

/** A fresh session of the member for each call: the walk signs out, too. */
async function memberCookie(grant: SharedRole | "none"): Promise<string> {
  const token = newToken();
  await gateway.db.accounts.createSession({ id: tokenId(token), userId: members.get(grant)!.id, expiresAt: sessionExpiry() });
  return `${SESSION_COOKIE}=${token}`;
}

/** The route's URL with its params filled: the given notebook and its schedule and run, made-up
 * ids elsewhere. */
function urlOf(name: ApiRouteName, walked: Walked): string {
  return apiRoutes[name].url
    .replace(":id", name === "deleteAccessToken" || name === "deleteInvite" ? "some-id" : walked.id)
    .replace(":token", "some-token")
    .replace(":name", "base")
    .replace(":userId", "some-user")
    .replace(":linkId", "some-link")
    .replace(":scheduleId", walked.scheduleId)
    .replace(":runId", walked.runId);
}

interface Answer {
  status: number;
  error?: string;
}

async function call(name: ApiRouteName, walked: Walked | string, headers: Record<string, string>): Promise<Answer> {
  const { method } = apiRoutes[name];
  const target = typeof walked === "string" ? { id: walked, viewLink: "", scheduleId: "none", runId: "none" } : walked;
  const res = await fetch(gateway.base + urlOf(name, target), {
    method,
    headers: { ...headers, ...(method === "GET" ? {} : { origin: gateway.base, "content-type": "application/json" }) },
    body: method === "GET" ? undefined : "{}",
  });
  const body = await res.text();
  return { status: res.status, error: body.startsWith("{") ? JSON.parse(body).error : undefined };
}

/** Let through: what the request then lacks (a body, a worker, a made-up id) is the route's own
 * business, but it is not refused for who is asking. */
function expectLetThrough(answer: Answer, who: string): void {
  expect([401, 403], who).not.toContain(answer.status);
  expect(answer.error, who).not.toBe("No such notebook");
}

describe("authorization of every route", () => {
  it("the table names every route of the route table, and only those; notebook routes are those with a role", () => {
    expect(Object.keys(ACCESS).sort()).toEqual(Object.keys(apiRoutes).sort());
    for (const name of Object.keys(apiRoutes) as ApiRouteName[])
      expect((apiRoutes[name] as ApiRoute).role !== undefined, name).toBe(ACCESS[name] === "notebook");
  });

  for (const name of Object.keys(apiRoutes) as ApiRouteName[]) {
    const route: ApiRoute = apiRoutes[name];
    it(`${route.method} ${route.url} (${route.role ? `${route.role} of the notebook` : ACCESS[name]})`, async () => {
      const access = ACCESS[name];
      const id = await sharedNotebook();
      const { viewLink } = id;

      const signedOut = await call(name, id, {});
      if (access === "open") expect(signedOut.status).not.toBe(401);
      else expect(signedOut.status).toBe(401);

      // A guest with a view link: the notebook's GET routes as a viewer; nothing else.
      const guest = await call(name, id, { [SHARE_LINK_HEADER]: viewLink });
      if (access === "open") expect(guest.status).not.toBe(401);
      else if (!route.role || route.method !== "GET") expect(guest.status, "guest").toBe(401);
      else if (roleAtLeast("viewer", route.role)) expectLetThrough(guest, "guest");
      else expect(guest, "guest").toEqual({ status: 403, error: `Needs the ${route.role} role on this notebook` });

      const noGrant = await call(name, id, { cookie: await memberCookie("none") });
      if (access === "notebook") expect(noGrant).toEqual({ status: 404, error: "No such notebook" });
      else if (access === "owner") expect(noGrant.status).toBe(403);
      else if (access.startsWith("schedule-"))
        expect(noGrant).toEqual({ status: 404, error: name.endsWith("Run") || name === "runDiff" ? "No such run" : "No such schedule" });
      else expect([401, 403]).not.toContain(noGrant.status);

      if (route.role) {
        for (const grant of GRANTED) {
          const answer = await call(name, id, { cookie: await memberCookie(grant) });
          if (roleAtLeast(grant, route.role)) expectLetThrough(answer, grant);
          else expect(answer, grant).toEqual({ status: 403, error: `Needs the ${route.role} role on this notebook` });
        }
      }
      // Any role on the notebook sees its schedules; only the notebook's owner (or the
      // schedule's) changes them.
      if (access.startsWith("schedule-")) {
        for (const grant of GRANTED) {
          const answer = await call(name, id, { cookie: await memberCookie(grant) });
          if (access === "schedule-view") expectLetThrough(answer, grant);
          else
            expect(answer, grant).toEqual({
              status: 403,
              error: "Only the schedule's owner or the notebook's owner can change this schedule",
            });
        }
      }

      expectLetThrough(await call(name, id, { authorization: `Bearer ${TEST_TOKEN}` }), "owner");
    });
  }
});

describe("share links", () => {
  it("a link opens only its own notebook, also given as ?link=", async () => {
    const { id, viewLink } = await sharedNotebook();
    const other = await sharedNotebook();
    expect((await fetch(`${gateway.base}/api/notebooks/${id}?link=${viewLink}`)).status).toBe(200);
    expect((await fetch(`${gateway.base}/api/notebooks/${other.id}?link=${viewLink}`)).status).toBe(404);
    expect((await fetch(`${gateway.base}/api/notebooks/${id}?link=not-a-link`)).status).toBe(404);
    // What a guest's download link is: the file routes take the link the same way.
    expect((await fetch(`${gateway.base}/api/notebooks/${id}/export?link=${viewLink}`)).status).toBe(200);
    expect((await fetch(`${gateway.base}/api/notebooks/${id}/export.html?link=${viewLink}`)).status).toBe(200);
    expect((await fetch(`${gateway.base}/api/notebooks/${other.id}/export.html?link=${viewLink}`)).status).toBe(404);
  });

  it("a signed-out page load with a link gets the notebook page, not the login page", async () => {
    const { id, viewLink } = await sharedNotebook();
    const page = await fetch(`${gateway.base}/notebook/?id=${id}&link=${viewLink}`, { redirect: "manual" });
    expect(page.status).not.toBe(302);
    const withoutLink = await fetch(`${gateway.base}/notebook/?id=${id}`, { redirect: "manual" });
    expect(withoutLink.headers.get("location")).toMatch(/^\/login\//);
  });
});

describe("a run's executed copy", () => {
  it("its owner may read and export it but change nothing, and it is not in their notebook list", async () => {
    const { id } = await sharedNotebook();
    const run = await gateway.db.notebooks.createExecutedCopy(id, { userId: gateway.db.localUserId });
    const ownerHeaders = { authorization: `Bearer ${TEST_TOKEN}` };
    const got = await fetch(`${gateway.base}/api/notebooks/${run!.id}`, { headers: ownerHeaders });
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ kind: "run", executedFromId: id, role: "viewer" });
    expect((await call("exportNotebook", run!.id, ownerHeaders)).status).toBe(200);
    expect((await call("exportNotebookHtml", run!.id, ownerHeaders)).status).toBe(200);
    for (const name of ["updateNotebook", "deleteNotebook", "addGrant", "createShareLink", "uploadFile"] as const) {
      const { role } = apiRoutes[name] as ApiRoute;
      expect(await call(name, run!.id, ownerHeaders), name).toEqual({ status: 403, error: `Needs the ${role} role on this notebook` });
    }
    const list = await (await fetch(`${gateway.base}/api/notebooks`, { headers: ownerHeaders })).json();
    expect(list.map((n: { id: string }) => n.id)).toContain(id);
    expect(list.map((n: { id: string }) => n.id)).not.toContain(run!.id);
  });
});
