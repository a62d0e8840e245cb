// Every browser socket event, sent by each role a person can have on a notebook, against a real
// gateway and database: what each may do is the table below, written out by hand so that the
// gateway's checks (protocol event-roles.ts) are held to it rather than to themselves.
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Database } from "@cellar/db";
import { makeMessage, type BrowserToGateway, type NotebookRole } from "@cellar/protocol";
import { newToken, SESSION_COOKIE, sessionExpiry, tokenId } from "../auth/session-tokens";
import { GatewayHarness, type Page, until } from "../testing/gateway-harness";

const harness = new GatewayHarness();
afterEach(() => harness.reset());
afterAll(() => harness.close());

/** The least role for each event; "viewer" events are open to anyone the notebook is shared with. */
const LEAST: Record<keyof BrowserToGateway, NotebookRole> = {
  "notebook:open": "viewer",
  "kernel:send": "runner",
  "kernel:interrupt": "runner",
  "kernel:restart": "runner",
  "outputs:clear": "editor",
  "cell:cancel-queued": "runner",
  "terminal:open": "editor",
  "terminal:input": "editor",
  "terminal:resize": "editor",
  "terminal:close": "editor",
  // Reading the live document: its writes are the hub's to drop (document-sockets.test.ts).
  "doc:sync": "viewer",
  "doc:awareness": "viewer",
  "doc:flush": "viewer",
};
/** And for each kernel message a page may send. */
const LEAST_MESSAGE = {
  execute_request: "runner",
  input_reply: "runner",
  kernel_info_request: "runner",
  comm_info_request: "runner",
  comm_open: "runner",
  comm_msg: "runner",
  comm_close: "runner",
  complete_request: "editor",
  inspect_request: "editor",
  is_complete_request: "editor",
  history_request: "editor",
} as const;

const ROLES = ["viewer", "runner", "editor", "owner"] as const;
const rank = (r: NotebookRole) => ROLES.indexOf(r);

/** A member signed in with a session cookie. */
async function member(db: Database, name: string): Promise<{ id: string; headers: Record<string, string> }> {
  const invite = await db.accounts.createInvite({
    id: randomUUID(),
    createdById: db.localUserId,
    expiresAt: new Date(Date.now() + 60_000),
  });
  const user = await db.accounts.acceptInvite(invite.id, { name, email: `${name}@example.com`, passwordHash: "x" });
  const token = newToken();
  await db.accounts.createSession({ id: tokenId(token), userId: user.id, expiresAt: sessionExpiry() });
  return { id: user.id, headers: { cookie: `${SESSION_COOKIE}=${token}` } };
}

/** A gateway with a worker, a notebook whose one cell holds `print('stored')`, and a page of
 * each role (and of a member it is not shared with) connected. */
async function setup() {
  const { url, db } = await harness.startGateway();
  const worker = harness.scriptedWorker(url, "w1");
  await until(() => worker.connected(), "the worker to connect");
  const notebook = await db.notebooks.create(db.localUserId, "shared");
  const cellId = notebook.cells[0]!.id;
  await db.notebooks.update(notebook.id, { cells: [{ id: cellId, cell_type: "code", source: "print('stored')" }] });
  const pages = {} as Record<NotebookRole | "stranger", Page>;
  pages.owner = harness.page(url);
  for (const role of ["viewer", "runner", "editor"] as const) {
    const m = await member(db, role);
    await db.shares.grant(notebook.id, `${role}@example.com`, role);
    pages[role] = harness.page(url, m.headers);
  }
  pages.stranger = harness.page(url, (await member(db, "stranger")).headers);
  await until(() => Object.values(pages).every((p) => p.socket.connected), "every page to connect");
  return { url, db, worker, notebook, cellId, pages };
}

const ack = (p: Page, event: string, payload: unknown) =>
  p.socket.timeout(10_000).emitWithAck(event, payload) as Promise<{ ok: boolean; error?: string }>;

const kernelMessage = (type: keyof typeof LEAST_MESSAGE, cellId: string) => {
  const content: Record<string, unknown> = {
    execute_request: {
      code: "print('stored')",
      silent: false,
      store_history: true,
      user_expressions: { x: "1" },
      allow_stdin: false,
      stop_on_error: true,
    },
    input_reply: { value: "yes" },
    kernel_info_request: {},
    comm_info_request: {},
    comm_open: { comm_id: "c1", target_name: "echo", data: {} },
    comm_msg: { comm_id: "c1", data: { value: 1 } },
    comm_close: { comm_id: "c1", data: {} },
    complete_request: { code: "pri", cursor_pos: 3 },
    inspect_request: { code: "print", cursor_pos: 5, detail_level: 0 },
    is_complete_request: { code: "1 +" },
    history_request: { output: false, raw: true, hist_access_type: "tail", n: 1 },
  }[type];
  const channel = type === "input_reply" ? "stdin" : "shell";
  return makeMessage(type, content as never, { channel, metadata: { cellId } });
};

describe("socket events by role", () => {
  it("opens the notebook for every role it is shared with and no one else; a viewer's open starts no kernel", async () => {
    const { notebook, pages, worker } = await setup();
    expect(await ack(pages.stranger, "notebook:open", { notebookId: notebook.id })).toEqual({ ok: false, error: "No such notebook." });
    const viewer = await ack(pages.viewer, "notebook:open", { notebookId: notebook.id });
    expect(viewer).toMatchObject({ ok: true, role: "viewer", status: "disconnected" });
    await new Promise((r) => setTimeout(r, 200));
    expect(worker.started).toEqual([]);
    expect(await ack(pages.runner, "notebook:open", { notebookId: notebook.id })).toMatchObject({ ok: true, role: "runner" });
    await until(() => worker.started.length === 1, "the runner's open to start the kernel");
    for (const role of ["editor", "owner"] as const)
      expect(await ack(pages[role], "notebook:open", { notebookId: notebook.id })).toMatchObject({ ok: true, role });
    expect(worker.started).toHaveLength(1);
    // The viewer watches the kernel someone else started.
    await until(() => pages.viewer.statuses.includes("idle"), "the viewer to see the kernel come up");
  }, 30_000);

  it("refuses each event and kernel message below its least role, naming the role needed", async () => {
    const { notebook, cellId, pages } = await setup();
    for (const role of ROLES) await ack(pages[role], "notebook:open", { notebookId: notebook.id });
    await until(() => pages.owner.statuses.includes("idle"), "the kernel to start");
    const nb = notebook.id;
    const events: Array<[string, NotebookRole, (p: Page) => Promise<{ ok: boolean; error?: string }>]> = [
      ...(Object.keys(LEAST_MESSAGE) as Array<keyof typeof LEAST_MESSAGE>).map(
        (type) =>
          [
            `kernel:send ${type}`,
            LEAST_MESSAGE[type],
            (p: Page) => ack(p, "kernel:send", { notebookId: nb, message: kernelMessage(type, cellId) }),
          ] as [string, NotebookRole, (p: Page) => Promise<{ ok: boolean; error?: string }>],
      ),
      ["kernel:interrupt", LEAST["kernel:interrupt"], (p) => ack(p, "kernel:interrupt", { notebookId: nb })],
      ["outputs:clear", LEAST["outputs:clear"], (p) => ack(p, "outputs:clear", { notebookId: nb, cellIds: [cellId] })],
      ["cell:cancel-queued", LEAST["cell:cancel-queued"], (p) => ack(p, "cell:cancel-queued", { notebookId: nb, cellId })],
      ["terminal:open", LEAST["terminal:open"], (p) => ack(p, "terminal:open", { notebookId: nb, cols: 80, rows: 24 })],
      ["kernel:restart", LEAST["kernel:restart"], (p) => ack(p, "kernel:restart", { notebookId: nb })],
    ];
    for (const [what, least, send] of events) {
      for (const role of ROLES) {
        const answer = await send(pages[role]);
        if (rank(role) >= rank(least)) expect(answer, `${what} by a ${role}`).toMatchObject({ ok: true });
        else expect(answer, `${what} by a ${role}`).toEqual({ ok: false, error: `Needs the ${least} role on this notebook.` });
      }
      // A member without a role, and a page that did not open it, are told to open it first.
      expect(await send(pages.stranger), `${what} by a stranger`).toEqual({ ok: false, error: "Open the notebook first." });
    }
  }, 60_000);

  it("a runner runs the cell as the notebook holds it, and forged code is refused; an editor's runs what they typed", async () => {
    const { url, db, notebook, cellId, pages, worker } = await setup();
    for (const role of ["runner", "editor", "owner"] as const) await ack(pages[role], "notebook:open", { notebookId: notebook.id });
    await until(() => pages.owner.statuses.includes("idle"), "the kernel to start");

    expect(await pages.runner.run(notebook.id, "import os; os.system('rm -rf /')", cellId)).toEqual({
      ok: false,
      error: "Needs the editor role on this notebook. Only the cell as the notebook holds it can be run.",
    });
    expect(await pages.runner.run(notebook.id, "print('stored')", cellId)).toEqual({ ok: true });
    await until(() => worker.ran.length === 1, "the runner's run");
    expect(worker.ran).toEqual(["print('stored')"]);
    const sent = worker.received.find((m) => m.header.msg_type === "execute_request");
    expect(sent?.content).toMatchObject({ user_expressions: {} });
    // Only cells of the notebook: a run without a cell, or of a cell it does not have, is refused.
    expect(await pages.runner.run(notebook.id, "1", "no-such-cell")).toEqual({ ok: false, error: "No such cell in this notebook." });

    expect(await pages.editor.run(notebook.id, "print('typed')", cellId)).toEqual({ ok: true });
    await until(() => worker.ran.length === 2, "the editor's run");
    expect(worker.ran[1]).toBe("print('typed')");

    // Every page with the notebook open hears who ran it, and the notebook remembers.
    await until(
      () => pages.owner.events.some((e) => e.event === "cell:ran" && (e.payload as { by: { name: string } }).by.name === "editor"),
      "the owner's page to hear that the editor ran the cell",
    );
    await until(async () => (await db.notebooks.get(notebook.id))?.cells[0]?.lastRunBy?.name === "editor", "the cell's last runner");
    // And tells whoever opens it afterwards, a signed-out holder of a view link too: the reply's
    // schema once dropped the field, so only pages open during the run knew.
    const { secret } = await db.shares.createLink({
      notebookId: notebook.id,
      role: "viewer",
      createdById: db.localUserId,
      expiresAt: null,
    });
    const opened = await fetch(`${url}/api/notebooks/${notebook.id}?link=${secret}`);
    expect(opened.status).toBe(200);
    expect((await opened.json()).cells[0].lastRunBy).toEqual({ id: expect.any(String), name: "editor" });
  }, 30_000);

  it("a signed-out holder of a share link opens that one notebook with the link's role, at most a runner", async () => {
    const { url, db, notebook, cellId, worker } = await setup();
    const link = (role: "viewer" | "runner" | "editor") =>
      db.shares.createLink({ notebookId: notebook.id, role, createdById: db.localUserId, expiresAt: null });
    const guest = async (auth: Record<string, string>) => {
      const p = harness.page(url, {}, auth);
      await until(() => p.socket.connected || p.refused(), "the guest's connection to be answered");
      return p;
    };

    const nobody = await guest({});
    expect(nobody.refused()).toBe("unauthorized");
    const forged = await guest({ notebookId: notebook.id, link: "not-a-link" });
    expect(forged.refused()).toBe("unauthorized");

    const viewing = await guest({ notebookId: notebook.id, link: (await link("viewer")).secret });
    expect(await ack(viewing, "notebook:open", { notebookId: notebook.id })).toMatchObject({ ok: true, role: "viewer" });
    expect(await viewing.run(notebook.id, "1", cellId)).toEqual({ ok: false, error: "Needs the runner role on this notebook." });
    // Another notebook of the owner's is not reachable with it.
    const other = await db.notebooks.create(db.localUserId, "private");
    expect(await ack(viewing, "notebook:open", { notebookId: other.id })).toEqual({ ok: false, error: "No such notebook." });

    // An edit link gives a signed-out holder no more than running the notebook as it is.
    const editing = await guest({ notebookId: notebook.id, link: (await link("editor")).secret });
    expect(await ack(editing, "notebook:open", { notebookId: notebook.id })).toMatchObject({ ok: true, role: "runner" });
    expect(await editing.run(notebook.id, "print('guest code')", cellId)).toMatchObject({ ok: false });
    expect(await editing.run(notebook.id, "print('stored')", cellId)).toEqual({ ok: true });
    await until(() => worker.ran.length === 1, "the guest's run");
    expect(worker.ran).toEqual(["print('stored')"]);

    // Revoked: the next connection with it is refused.
    const revoked = await link("runner");
    await db.shares.revokeLink(notebook.id, revoked.id);
    expect((await guest({ notebookId: notebook.id, link: revoked.secret })).refused()).toBe("unauthorized");
  }, 30_000);

  it("a run's executed copy is only watched, by its owner too: no kernel starts and nothing runs", async () => {
    const { db, notebook, cellId, pages, worker } = await setup();
    const run = await db.notebooks.createExecutedCopy(notebook.id, { userId: db.localUserId });
    expect(await ack(pages.owner, "notebook:open", { notebookId: run!.id })).toMatchObject({
      ok: true,
      role: "viewer",
      status: "disconnected",
    });
    expect(await pages.owner.run(run!.id, "print('stored')", cellId)).toEqual({
      ok: false,
      error: "Needs the runner role on this notebook.",
    });
    expect(await ack(pages.owner, "kernel:restart", { notebookId: run!.id })).toEqual({
      ok: false,
      error: "Needs the runner role on this notebook.",
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(worker.started).toEqual([]);
  }, 30_000);
});
