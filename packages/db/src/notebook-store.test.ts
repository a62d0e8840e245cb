import type { Output } from "@cellar/protocol";
import { describe, expect, it } from "vitest";
import { LOCAL_USER_ID, type Database } from "./database";
import { DuplicateCellIdError } from "./notebook-store";
import { DIALECTS, useTestDatabase } from "./test-support";

const hello: Output[] = [{ output_type: "stream", name: "stdout", text: "hello\n" }];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DIALECTS)("notebook store on %s", (dialect) => {
  let db: Database;
  const warnings: string[] = [];

  useTestDatabase(dialect, (opened) => (db = opened), { warn: (m) => warnings.push(m) });

  it("opens with the local user in place and reports its dialect", async () => {
    expect(db.dialect).toBe(dialect);
    expect(db.localUserId).toBe(LOCAL_USER_ID);
    expect(await db.prisma.user.findUnique({ where: { id: LOCAL_USER_ID } })).toMatchObject({ id: "local" });
  });

  it("reads back one cell's recorded outputs, and null for a cell it does not have", async () => {
    const nb = await db.notebooks.create(db.localUserId);
    const cellId = nb.cells[0].id;
    await db.notebooks.saveCellOutputs(nb.id, cellId, hello, 3);
    expect(await db.notebooks.cellOutputs(nb.id, cellId)).toEqual({ outputs: hello, executionCount: 3, through: null });
    // With the kernel message they go up to, for a gateway that takes over the run.
    await db.notebooks.saveCellOutputs(nb.id, cellId, hello, 3, { stream: "s1:e1", seq: 41 });
    expect(await db.notebooks.cellOutputs(nb.id, cellId)).toEqual({
      outputs: hello,
      executionCount: 3,
      through: { stream: "s1:e1", seq: 41 },
    });
    expect(await db.notebooks.cellOutputs(nb.id, "no-such-cell")).toBeNull();
  });

  it("creates an Untitled notebook with one empty code cell", async () => {
    const nb = await db.notebooks.create(LOCAL_USER_ID);
    expect(nb).toMatchObject({ title: "Untitled", userId: LOCAL_USER_ID, lastRunAt: null });
    expect(nb.cells).toEqual([{ id: expect.any(String), cell_type: "code", source: "", outputs: [], execution_count: null, metadata: {} }]);
    expect(await db.notebooks.get(nb.id)).toEqual(nb);
    expect(Date.parse(nb.createdAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("lists a user's notebooks, most recently saved first, and no one else's", async () => {
    await db.prisma.user.create({ data: { id: "other", name: "Other" } });
    const mine = await db.notebooks.create(LOCAL_USER_ID, "first");
    await sleep(5);
    const second = await db.notebooks.create(LOCAL_USER_ID, "second");
    await db.notebooks.create("other", "not mine");
    await sleep(5);
    await db.notebooks.update(mine.id, { title: "first, renamed" });
    const list = await db.notebooks.list(LOCAL_USER_ID);
    expect(list.slice(0, 2).map((n) => n.title)).toEqual(["first, renamed", "second"]);
    expect(list.map((n) => n.title)).not.toContain("not mine");
    expect(list[1]).toEqual({ id: second.id, title: "second", updatedAt: second.updatedAt, lastRunAt: null });
  });

  it("saves structure and sources while cells keep their outputs", async () => {
    const nb = await db.notebooks.create(LOCAL_USER_ID, "outputs");
    const a = nb.cells[0]!.id;
    await db.notebooks.update(nb.id, {
      cells: [
        { id: a, cell_type: "code", source: "print('hello')" },
        { id: "b", cell_type: "markdown", source: "# Notes", metadata: { tags: ["x"] } },
      ],
    });
    expect(await db.notebooks.saveCellOutputs(nb.id, a, hello, 1)).toBe(true);

    // The browser saves again (reordered, edited, one cell added) without outputs.
    const saved = await db.notebooks.update(nb.id, {
      title: "outputs kept",
      cells: [
        { id: "b", cell_type: "markdown", source: "# Notes!" },
        { id: "c", cell_type: "code", source: "1 + 1" },
        { id: a, cell_type: "code", source: "print('hello')" },
      ],
    });
    expect(saved?.title).toBe("outputs kept");
    expect(saved?.cells).toEqual([
      { id: "b", cell_type: "markdown", source: "# Notes!", outputs: [], execution_count: null, metadata: { tags: ["x"] } },
      { id: "c", cell_type: "code", source: "1 + 1", outputs: [], execution_count: null, metadata: {} },
      { id: a, cell_type: "code", source: "print('hello')", outputs: hello, execution_count: 1, metadata: {} },
    ]);
    expect(await db.notebooks.get(nb.id)).toEqual(saved);
  });

  it("deletes cells a save leaves out", async () => {
    const nb = await db.notebooks.create(LOCAL_USER_ID);
    await db.notebooks.update(nb.id, {
      cells: [
        { id: "keep", cell_type: "code", source: "1" },
        { id: "drop", cell_type: "code", source: "2" },
      ],
    });
    const saved = await db.notebooks.update(nb.id, { cells: [{ id: "keep", cell_type: "code", source: "1" }] });
    expect(saved?.cells.map((c) => c.id)).toEqual(["keep"]);
    expect(await db.prisma.cell.count({ where: { notebookId: nb.id } })).toBe(1);
  });

  it("two saves of one notebook at once, both adding the same new cell, both succeed (they take turns)", async () => {
    const nb = await db.notebooks.create(LOCAL_USER_ID);
    const first = nb.cells[0].id;
    const save = (source: string) =>
      db.notebooks.update(nb.id, {
        cells: [
          { id: first, cell_type: "code", source },
          { id: "added-by-both", cell_type: "code", source: "new" },
        ],
      });
    const saves = await Promise.all(Array.from({ length: 6 }, (_, i) => save(`tab ${i}`)));
    expect(saves.every((s) => s?.cells.length === 2)).toBe(true);
    expect(await db.prisma.cell.count({ where: { notebookId: nb.id } })).toBe(2);
  });

  it("lets two notebooks use the same cell ids (an .ipynb imported twice)", async () => {
    const one = await db.notebooks.create(LOCAL_USER_ID);
    const two = await db.notebooks.create(LOCAL_USER_ID);
    const cells = [{ id: "shared", cell_type: "code" as const, source: "x = 1" }];
    await db.notebooks.update(one.id, { cells });
    await db.notebooks.update(two.id, { cells });
    await db.notebooks.saveCellOutputs(one.id, "shared", hello, 3);
    expect((await db.notebooks.get(two.id))?.cells[0]?.outputs).toEqual([]);
    expect((await db.notebooks.get(one.id))?.cells[0]?.outputs).toEqual(hello);
  });

  it("rejects a save that names one cell twice, changing nothing", async () => {
    const nb = await db.notebooks.create(LOCAL_USER_ID, "dupes");
    const update = {
      title: "changed",
      cells: [
        { id: "x", cell_type: "code" as const, source: "" },
        { id: "x", cell_type: "code" as const, source: "" },
      ],
    };
    await expect(db.notebooks.update(nb.id, update)).rejects.toThrow(DuplicateCellIdError);
    expect(await db.notebooks.get(nb.id)).toEqual(nb);
  });

  it("returns null when saving or reading a notebook that does not exist", async () => {
    expect(await db.notebooks.get("missing")).toBeNull();
    expect(await db.notebooks.update("missing", { title: "x" })).toBeNull();
  });

  it("ignores outputs for a cell the notebook does not have", async () => {
    const nb = await db.notebooks.create(LOCAL_USER_ID);
    expect(await db.notebooks.saveCellOutputs(nb.id, "never-saved", hello, 1)).toBe(false);
    expect(await db.notebooks.saveCellOutputs("no-such-notebook", "x", hello, 1)).toBe(false);
    expect(await db.notebooks.get(nb.id)).toEqual(nb);
  });

  it("records a run without reordering the list", async () => {
    const nb = await db.notebooks.create(LOCAL_USER_ID, "ran");
    await sleep(5);
    await db.notebooks.markRun(nb.id);
    const after = await db.notebooks.get(nb.id);
    expect(after?.lastRunAt).not.toBeNull();
    expect(Date.parse(after!.lastRunAt!)).toBeGreaterThan(Date.parse(nb.updatedAt));
    expect(after?.updatedAt).toBe(nb.updatedAt);
  });

  it("records who ran a cell last, through a later save, and reads a cell's stored source", async () => {
    const nb = await db.notebooks.create(LOCAL_USER_ID, "who ran");
    const cellId = nb.cells[0]!.id;
    await db.notebooks.update(nb.id, { cells: [{ id: cellId, cell_type: "code", source: "print(1)" }] });
    await db.notebooks.markRun(nb.id, { cellId, userId: LOCAL_USER_ID });
    await db.notebooks.update(nb.id, { cells: [{ id: cellId, cell_type: "code", source: "print(2)" }] });
    const after = await db.notebooks.get(nb.id);
    expect(after?.cells[0]?.lastRunBy?.id).toBe(LOCAL_USER_ID);
    expect(after?.cells[0]?.lastRunBy?.name).toBeTruthy();
    expect(await db.notebooks.cellSource(nb.id, cellId)).toBe("print(2)");
    expect(await db.notebooks.cellSource(nb.id, "no-such-cell")).toBeNull();
    expect(await db.notebooks.cellSource("no-such-notebook", cellId)).toBeNull();
  });

  it("reads the stored metadata a run's device is chosen from: the cell's and the notebook's", async () => {
    const nb = await db.notebooks.create(LOCAL_USER_ID, "devices");
    const cellId = nb.cells[0]!.id;
    const device = { kind: "gpu", model: "H100", count: 1 };
    await db.notebooks.update(nb.id, { cells: [{ id: cellId, cell_type: "code", source: "x", metadata: { cellar: { device } } }] });
    expect(await db.notebooks.runMetadata(nb.id, cellId)).toMatchObject({ cell: { cellar: { device } }, notebook: {} });
    expect((await db.notebooks.runMetadata(nb.id, "no-such-cell")).cell).toBeNull();
  });

  it("records a notebook's pip packages and their image beside its other metadata, without reordering the list", async () => {
    const nb = await db.notebooks.importNotebook(LOCAL_USER_ID, {
      title: "packages",
      metadata: { kernelspec: { name: "python3" } },
      nbformatMinor: 5,
      cells: [],
    });
    const before = (await db.notebooks.get(nb.id))!;
    expect(await db.notebooks.setPackages(nb.id, "pip-0123456789ab", { from: "base", pip: ["tqdm"] })).toBe(true);
    const after = (await db.notebooks.get(nb.id))!;
    expect(after.image).toBe("pip-0123456789ab");
    expect(after.metadata).toEqual({ kernelspec: { name: "python3" }, cellar: { image: { from: "base", pip: ["tqdm"] } } });
    expect(after.updatedAt).toBe(before.updatedAt);
    await db.notebooks.setPackages(nb.id, "base", null);
    expect((await db.notebooks.get(nb.id))!).toMatchObject({ image: "base", metadata: { kernelspec: { name: "python3" } } });
    expect(await db.notebooks.setPackages("no-such-notebook", "base", null)).toBe(false);
  });

  it("records the widgets' state as metadata.widgets beside the rest, without reordering the list; a run's copy starts without it", async () => {
    const nb = await db.notebooks.importNotebook(LOCAL_USER_ID, {
      title: "widgets",
      metadata: { kernelspec: { name: "python3" } },
      nbformatMinor: 5,
      cells: [],
    });
    const before = (await db.notebooks.get(nb.id))!;
    const model = {
      model_name: "IntSliderModel",
      model_module: "@jupyter-widgets/controls",
      model_module_version: "2.0.0",
      state: { value: 9 },
    };
    const doc = { version_major: 2 as const, version_minor: 0 as const, state: { m1: model } };
    expect(await db.notebooks.saveWidgetState(nb.id, doc)).toBe(true);
    const after = (await db.notebooks.get(nb.id))!;
    expect(after.metadata).toEqual({ kernelspec: { name: "python3" }, widgets: { "application/vnd.jupyter.widget-state+json": doc } });
    expect(after.updatedAt).toBe(before.updatedAt);
    expect(await db.notebooks.widgetState(nb.id)).toEqual(doc);
    // The packages' write keeps it, and it keeps theirs.
    await db.notebooks.setPackages(nb.id, "pip-0123456789ab", { from: "base", pip: ["ipywidgets"] });
    expect((await db.notebooks.get(nb.id))!.metadata).toMatchObject({
      widgets: { "application/vnd.jupyter.widget-state+json": doc },
      cellar: {},
    });
    const copy = (await db.notebooks.createExecutedCopy(nb.id, { userId: LOCAL_USER_ID }))!;
    expect(copy.metadata).toEqual({ kernelspec: { name: "python3" }, cellar: { image: { from: "base", pip: ["ipywidgets"] } } });
    await db.notebooks.saveWidgetState(nb.id, null);
    expect((await db.notebooks.get(nb.id))!.metadata).not.toHaveProperty("widgets");
    expect(await db.notebooks.widgetState(nb.id)).toBeNull();
    expect(await db.notebooks.widgetState("no-such-notebook")).toBeNull();
    expect(await db.notebooks.saveWidgetState("no-such-notebook", doc)).toBe(false);
  });

  it("imports a whole notebook: cell types, outputs, counts, metadata, attachments, nbformat minor", async () => {
    const nb = await db.notebooks.importNotebook(LOCAL_USER_ID, {
      title: "imported",
      metadata: { kernelspec: { name: "python3", display_name: "Python 3" } },
      nbformatMinor: 4,
      cells: [
        {
          id: "m",
          cell_type: "markdown",
          source: "![x](attachment:x.png)",
          outputs: [],
          execution_count: null,
          metadata: {},
          attachments: { "x.png": { "image/png": "iVBOR" } },
        },
        { id: "c", cell_type: "code", source: "print('hello')", outputs: hello, execution_count: 7, metadata: { tags: ["parameters"] } },
        { id: "r", cell_type: "raw", source: "raw text", outputs: [], execution_count: null, metadata: {} },
      ],
    });
    const read = await db.notebooks.get(nb.id);
    expect(read).toEqual(nb);
    expect(read).toMatchObject({ title: "imported", nbformatMinor: 4, metadata: { kernelspec: { name: "python3" } } });
    expect(read!.cells.map((c) => [c.id, c.cell_type])).toEqual([
      ["m", "markdown"],
      ["c", "code"],
      ["r", "raw"],
    ]);
    expect(read!.cells[0]!.attachments).toEqual({ "x.png": { "image/png": "iVBOR" } });
    expect(read!.cells[1]).toMatchObject({ outputs: hello, execution_count: 7, metadata: { tags: ["parameters"] } });
    // A browser save (sources and order only) keeps what the import brought.
    await db.notebooks.update(nb.id, { cells: read!.cells.map(({ id, cell_type, source }) => ({ id, cell_type, source: source + " " })) });
    const saved = await db.notebooks.get(nb.id);
    expect(saved!.cells[0]!.attachments).toEqual({ "x.png": { "image/png": "iVBOR" } });
    expect(saved).toMatchObject({ nbformatMinor: 4, metadata: { kernelspec: { name: "python3" } } });
  });

  it("refuses an import that names one cell twice, creating nothing", async () => {
    const before = (await db.notebooks.list(LOCAL_USER_ID)).length;
    const cell = { id: "same", cell_type: "code" as const, source: "", outputs: [], execution_count: null, metadata: {} };
    await expect(
      db.notebooks.importNotebook(LOCAL_USER_ID, { title: "dup", metadata: {}, nbformatMinor: 5, cells: [cell, cell] }),
    ).rejects.toBeInstanceOf(DuplicateCellIdError);
    expect((await db.notebooks.list(LOCAL_USER_ID)).length).toBe(before);
  });

  it("removes a notebook together with its cells", async () => {
    const nb = await db.notebooks.create(LOCAL_USER_ID);
    await db.notebooks.saveCellOutputs(nb.id, nb.cells[0]!.id, hello, 1);
    expect(await db.notebooks.remove(nb.id)).toBe(true);
    expect(await db.notebooks.get(nb.id)).toBeNull();
    expect(await db.prisma.cell.count({ where: { notebookId: nb.id } })).toBe(0);
    expect(await db.notebooks.remove(nb.id)).toBe(false);
  });

  it("knows whose a notebook is, and null for one that does not exist", async () => {
    const other = await db.prisma.user.create({ data: { id: "owner-of-test", name: "Other" } });
    const mine = await db.notebooks.create(LOCAL_USER_ID);
    const theirs = await db.notebooks.create(other.id);
    expect(await db.notebooks.ownerOf(mine.id)).toBe(LOCAL_USER_ID);
    expect(await db.notebooks.ownerOf(theirs.id)).toBe(other.id);
    await db.notebooks.remove(theirs.id);
    expect(await db.notebooks.ownerOf(theirs.id)).toBeNull();
    expect(await db.notebooks.ownerOf("no-such-notebook")).toBeNull();
  });

  it("opens a notebook whose stored outputs or metadata are not valid JSON, showing them empty", async () => {
    const nb = await db.notebooks.create(LOCAL_USER_ID);
    const cellId = nb.cells[0]!.id;
    await db.prisma.cell.update({
      where: { notebookId_id: { notebookId: nb.id, id: cellId } },
      data: { outputs: "[{not json", metadata: "[1, 2]" },
    });
    const got = await db.notebooks.get(nb.id);
    expect(got?.cells[0]).toMatchObject({ id: cellId, outputs: [], metadata: {} });
    expect(warnings.some((w) => w.includes(`cell ${cellId}`) && w.includes("not valid JSON"))).toBe(true);
  });

  it("keeps every model's fields through the Prisma client as the migration created them", async () => {
    const user = await db.prisma.user.create({ data: { id: "roundtrip", name: "Ada" } });
    expect(user.createdAt).toBeInstanceOf(Date);
    expect(user).toMatchObject({ email: null, passwordHash: null, role: "member" });
    const notebook = await db.prisma.notebook.create({ data: { userId: user.id, title: "t" } });
    expect(notebook).toMatchObject({ image: "base", lastRunAt: null, id: expect.any(String), metadata: "{}", nbformatMinor: 5 });
    const cell = await db.prisma.cell.create({
      data: { notebookId: notebook.id, id: "c1", position: 7, cellType: "code", source: "s", executionCount: 2 },
    });
    expect(cell).toEqual({
      id: "c1",
      notebookId: notebook.id,
      position: 7,
      cellType: "code",
      source: "s",
      outputs: "[]",
      executionCount: 2,
      metadata: "{}",
      attachments: null,
      outputsSession: null,
      outputsSeq: null,
      lastRunById: null,
    });
    // A teammate's grant, a share link, an identity and the shared document's bytes.
    const mate = await db.prisma.user.create({ data: { id: "roundtrip-mate", name: "Grace" } });
    await db.prisma.cell.update({ where: { notebookId_id: { notebookId: notebook.id, id: "c1" } }, data: { lastRunById: mate.id } });
    await db.prisma.notebookGrant.create({ data: { notebookId: notebook.id, userId: mate.id, role: "runner" } });
    await db.prisma.shareLink.create({ data: { id: "f".repeat(64), notebookId: notebook.id, role: "viewer", createdById: user.id } });
    await db.prisma.userIdentity.create({ data: { issuer: "https://idp.test", subject: "s1", userId: mate.id } });
    const state = Uint8Array.from([0, 1, 254, 255]);
    await db.prisma.notebookDocument.create({ data: { notebookId: notebook.id, state, updates: { create: [{ update: state }] } } });
    const doc = await db.prisma.notebookDocument.findUniqueOrThrow({ where: { notebookId: notebook.id }, include: { updates: true } });
    expect([...doc.state]).toEqual([0, 1, 254, 255]);
    expect([...doc.updates[0]!.update]).toEqual([0, 1, 254, 255]);
    // Deleting the teammate keeps the notebook and forgets who ran the cell.
    await db.prisma.user.delete({ where: { id: mate.id } });
    expect((await db.prisma.cell.findFirstOrThrow({ where: { notebookId: notebook.id } })).lastRunById).toBeNull();
    expect(await db.prisma.notebookGrant.count({ where: { notebookId: notebook.id } })).toBe(0);
    // Deleting a user takes their notebooks, cells, links and document with it.
    await db.prisma.user.delete({ where: { id: user.id } });
    expect(await db.prisma.cell.count({ where: { notebookId: notebook.id } })).toBe(0);
    expect(await db.prisma.shareLink.count({ where: { notebookId: notebook.id } })).toBe(0);
    expect(await db.prisma.notebookDocumentUpdate.count({ where: { notebookId: notebook.id } })).toBe(0);
  });

  it("copies a notebook as last saved into a run that the lists leave out, and says what it was run from", async () => {
    const source = await db.notebooks.create(LOCAL_USER_ID, "report");
    await db.notebooks.update(source.id, {
      cells: [
        { id: "p", cell_type: "code", source: "n = 1", metadata: { tags: ["parameters"] } },
        { id: "m", cell_type: "markdown", source: "# Result" },
      ],
    });
    await db.notebooks.saveCellOutputs(source.id, "p", hello, 4);
    const at = new Date("2026-12-04T09:00:30Z");
    const run = await db.notebooks.createExecutedCopy(source.id, { userId: LOCAL_USER_ID, at });
    expect(run).toMatchObject({
      kind: "run",
      executedFromId: source.id,
      title: "report — run 2026-12-04 09:00 UTC",
      userId: LOCAL_USER_ID,
    });
    // Outputs are the run's own, not the source's last ones.
    expect(run!.cells).toEqual([
      { id: "p", cell_type: "code", source: "n = 1", outputs: [], execution_count: null, metadata: { tags: ["parameters"] } },
      { id: "m", cell_type: "markdown", source: "# Result", outputs: [], execution_count: null, metadata: {} },
    ]);
    expect(await db.notebooks.get(source.id)).toMatchObject({ kind: "notebook", executedFromId: null });
    expect((await db.notebooks.list(LOCAL_USER_ID)).map((n) => n.id)).toContain(source.id);
    expect((await db.notebooks.list(LOCAL_USER_ID)).map((n) => n.id)).not.toContain(run!.id);

    // Given cells (parameters injected) replace the source's.
    const injected = await db.notebooks.createExecutedCopy(source.id, {
      userId: LOCAL_USER_ID,
      cells: [{ id: "x", cell_type: "code", source: "n = 5", outputs: [], execution_count: null, metadata: {} }],
    });
    expect(injected!.cells.map((c) => c.source)).toEqual(["n = 5"]);
    expect(await db.notebooks.createExecutedCopy("no-such-notebook", { userId: LOCAL_USER_ID })).toBeNull();

    // History outlives its notebook.
    await db.notebooks.remove(source.id);
    expect(await db.notebooks.get(run!.id)).toMatchObject({ kind: "run", executedFromId: null });
  });
});
