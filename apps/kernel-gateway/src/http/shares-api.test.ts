// Sharing over HTTP as its users see it: the owner shares by email, the teammate finds the
// notebook in their list with their role, roles change and go; links open the notebook for a
// signed-out holder until revoked. Every change that can take access away is announced.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newToken, SESSION_COOKIE, sessionExpiry, tokenId } from "../auth/session-tokens";
import type { AccessChange } from "./shares-api";
import { startTestApp, TEST_TOKEN, type TestApp } from "./test-app";

const owner = { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" };
let gateway: TestApp;
let teammate: { id: string; cookie: string };
const changes: AccessChange[] = [];

beforeAll(async () => {
  gateway = await startTestApp({ deps: () => ({ onAccessChanged: (change) => changes.push(change) }) });
  const invite = await (await fetch(`${gateway.base}/api/invites`, { method: "POST", headers: owner, body: "{}" })).json();
  const signup = await fetch(`${gateway.base}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ invite: invite.token, name: "Tea Mate", email: "tea@example.com", password: "a member password" }),
  });
  const id = (await signup.json()).user.id;
  const token = newToken();
  await gateway.db.accounts.createSession({ id: tokenId(token), userId: id, expiresAt: sessionExpiry() });
  teammate = { id, cookie: `${SESSION_COOKIE}=${token}` };
});
afterAll(() => gateway.close());

const api = (path: string, init: RequestInit & { as?: "owner" | "teammate" | "nobody" } = {}) => {
  const headers: Record<string, string> =
    init.as === "nobody" ? {} : init.as === "teammate" ? { cookie: teammate.cookie, origin: gateway.base } : { ...owner };
  if (init.body) headers["content-type"] = "application/json";
  return fetch(gateway.base + path, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });
};
const newNotebook = async (title: string) =>
  (await (await api("/api/notebooks", { method: "POST", body: JSON.stringify({ title }) })).json()).id as string;

describe("sharing with a teammate", () => {
  it("the teammate gets the notebook with their role, in their list with the owner's name, until removed", async () => {
    const id = await newNotebook("Quarterly");
    expect((await api(`/api/notebooks/${id}`, { as: "teammate" })).status).toBe(404);

    const added = await api(`/api/notebooks/${id}/grants`, {
      method: "POST",
      body: JSON.stringify({ email: " TEA@example.com ", role: "viewer" }),
    });
    expect(added.status).toBe(200);
    expect(await added.json()).toMatchObject({ userId: teammate.id, name: "Tea Mate", email: "tea@example.com", role: "viewer" });

    const opened = await (await api(`/api/notebooks/${id}`, { as: "teammate" })).json();
    expect(opened).toMatchObject({ id, title: "Quarterly", role: "viewer" });
    expect((await (await api(`/api/notebooks/${id}`)).json()).role).toBe("owner");
    const list = await (await api("/api/notebooks", { as: "teammate" })).json();
    expect(list).toContainEqual(expect.objectContaining({ id, title: "Quarterly", role: "viewer", ownerName: "Local user" }));
    const ownList = await (await api("/api/notebooks")).json();
    expect(ownList).toContainEqual(expect.objectContaining({ id, role: "owner" }));

    // A viewer may not save; an editor may.
    const save = () => api(`/api/notebooks/${id}`, { as: "teammate", method: "PUT", body: JSON.stringify({ title: "Mine now" }) });
    expect(await (await save()).json()).toEqual({ error: "Needs the editor role on this notebook" });
    const changed = await api(`/api/notebooks/${id}/grants/${teammate.id}`, { method: "PUT", body: JSON.stringify({ role: "editor" }) });
    expect(await changed.json()).toMatchObject({ role: "editor" });
    expect((await save()).status).toBe(200);
    expect(await (await api(`/api/notebooks/${id}/grants`)).json()).toEqual([
      expect.objectContaining({ userId: teammate.id, role: "editor" }),
    ]);

    expect((await api(`/api/notebooks/${id}/grants/${teammate.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await (await api(`/api/notebooks/${id}`, { as: "teammate" })).json()).toEqual({ error: "No such notebook" });
    expect((await api(`/api/notebooks/${id}/grants/${teammate.id}`, { method: "DELETE" })).status).toBe(404);
    expect(changes.filter((c) => c.notebookId === id)).toEqual([
      { notebookId: id, userId: teammate.id },
      { notebookId: id, userId: teammate.id },
      { notebookId: id, userId: teammate.id },
    ]);
  });

  it("an unknown email is a 404 and the owner's own email a 400", async () => {
    const id = await newNotebook("Alone");
    await gateway.db.accounts.setCredentials(gateway.db.localUserId, "owner@example.com", "$argon2id$x");
    const grant = (email: string) =>
      api(`/api/notebooks/${id}/grants`, { method: "POST", body: JSON.stringify({ email, role: "viewer" }) });
    const unknown = await grant("nobody@example.com");
    expect([unknown.status, await unknown.json()]).toEqual([404, { error: "No teammate with that email" }]);
    expect((await grant("owner@example.com")).status).toBe(400);
  });

  it("a viewer's duplicate is a notebook of their own", async () => {
    const id = await newNotebook("Template");
    await gateway.db.shares.grant(id, "tea@example.com", "viewer");
    const copy = await (await api(`/api/notebooks/${id}/duplicate`, { as: "teammate", method: "POST" })).json();
    expect(copy).toMatchObject({ title: "Template (copy)", userId: teammate.id });
    expect((await (await api(`/api/notebooks/${copy.id}`, { as: "teammate" })).json()).role).toBe("owner");
  });
});

describe("share links", () => {
  it("a link is shown once, opens the notebook signed out with at most its role, and stops when revoked", async () => {
    const id = await newNotebook("Public");
    const made = await api(`/api/notebooks/${id}/links`, { method: "POST", body: JSON.stringify({ role: "editor", expiresInDays: 7 }) });
    expect(made.status).toBe(201);
    const link = await made.json();
    expect(link).toMatchObject({ role: "editor", createdByName: "Local user", url: `/notebook/?id=${id}&link=${link.secret}` });
    expect(Date.parse(link.expiresAt) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const listed = await (await api(`/api/notebooks/${id}/links`)).json();
    expect(listed).toEqual([
      { id: link.id, role: "editor", createdAt: link.createdAt, expiresAt: link.expiresAt, createdByName: "Local user" },
    ]);

    // Signed out, an edit link gives a runner's role; signed in, an editor's.
    const asGuest = await (await api(`/api/notebooks/${id}?link=${link.secret}`, { as: "nobody" })).json();
    expect(asGuest).toMatchObject({ id, title: "Public", role: "runner" });
    expect((await (await api(`/api/notebooks/${id}?link=${link.secret}`, { as: "teammate" })).json()).role).toBe("editor");
    // A guest may not write even what its role would allow a signed-in caller.
    expect((await api(`/api/notebooks/${id}/kernel/suspend?link=${link.secret}`, { as: "nobody", method: "POST" })).status).toBe(401);

    expect((await api(`/api/notebooks/${id}/links/${link.id}`, { method: "DELETE" })).status).toBe(204);
    expect(changes).toContainEqual({ notebookId: id, linkId: link.id });
    expect((await api(`/api/notebooks/${id}?link=${link.secret}`, { as: "nobody" })).status).toBe(404);
    expect((await api(`/api/notebooks/${id}/links/${link.id}`, { method: "DELETE" })).status).toBe(404);
    expect(await (await api(`/api/notebooks/${id}/links`)).json()).toEqual([]);
  });

  it("only the owner manages a notebook's sharing, even an editor may not", async () => {
    const id = await newNotebook("Guarded");
    await gateway.db.shares.grant(id, "tea@example.com", "editor");
    const tries = [
      api(`/api/notebooks/${id}/grants`, { as: "teammate" }),
      api(`/api/notebooks/${id}/links`, { as: "teammate", method: "POST", body: JSON.stringify({ role: "viewer" }) }),
      api(`/api/notebooks/${id}/grants/${teammate.id}`, { as: "teammate", method: "DELETE" }),
    ];
    for (const answer of await Promise.all(tries)) expect(await answer.json()).toEqual({ error: "Needs the owner role on this notebook" });
  });
});
