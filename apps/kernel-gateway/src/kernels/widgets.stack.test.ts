// ipywidgets 8 through the real stack (testing/real-stack.ts: this process's gateway, a real
// worker, a gVisor sandbox, ipykernel 6.17 behind the kernel bridge), as the base image has it
// (images/base.json's pip packages). What a user notices: a slider shows (its comm_open and its
// view reach the pages), moving it on one page reaches the kernel and the other page, tqdm's
// notebook bar fills, and the notebook, saved and exported, keeps the widgets' last state.
import { createGatewaySocket, GatewayKernel, type KernelComm } from "@cellar/kernel-client";
import { validateIpynb } from "@cellar/notebook-format";
import { WIDGET_STATE_MIME, WIDGET_TARGET, WIDGET_VIEW_MIME, type JupyterMessage, type WidgetStateDocument } from "@cellar/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../testing/gateway-harness";
import { startRealStack, type RealStack } from "../testing/real-stack";

describe("ipywidgets 8 on the real stack", () => {
  const kernels: GatewayKernel[] = [];
  let stack: RealStack;

  beforeAll(async () => {
    stack = await startRealStack();
  }, 120_000);
  afterAll(async () => {
    for (const k of kernels) k.dispose();
    await stack?.close();
  }, 60_000);

  function page(notebookId: string): GatewayKernel {
    const k = new GatewayKernel(createGatewaySocket({ url: stack.url, token: stack.token, reconnection: false }), notebookId);
    kernels.push(k);
    return k;
  }

  /** Runs `code` in the cell `cellId`: what it printed and its iopub messages; fails on an error. */
  async function run(k: GatewayKernel, code: string, cellId: string, timeoutMs = 60_000) {
    let text = "";
    const iopub: JupyterMessage[] = [];
    const reply = await k.execute(code, {
      cellId,
      timeoutMs,
      onIOPub: (m) => {
        iopub.push(m);
        if (m.header.msg_type === "stream") text += String(m.content.text);
      },
    }).done;
    if (reply.content.status !== "ok") throw new Error(`${code} failed: ${reply.content.ename}: ${reply.content.evalue}\n${text}`);
    return { text, iopub };
  }

  const savedWidgets = async (id: string) =>
    ((await stack.db.notebooks.get(id))?.metadata?.widgets as Record<string, WidgetStateDocument> | undefined)?.[WIDGET_STATE_MIME];
  const api = (url: string) => fetch(`${stack.url}${url}`, { headers: { authorization: `Bearer ${stack.token}` } });

  it("shows a slider, carries a page's move to the kernel and the other page, saves and exports its state; tqdm's bar fills", async () => {
    const nb = await stack.db.notebooks.create(stack.db.localUserId, "widgets");
    await stack.db.notebooks.update(nb.id, {
      cells: ["slider", "read", "bar", "out"].map((id) => ({ id, cell_type: "code" as const, source: "" })),
    });
    const owner = page(nb.id);
    const other = page(nb.id);
    await owner.opened();
    await until(() => owner.status === "idle", "the kernel to start", 120_000);
    await other.opened();
    const heard: JupyterMessage[] = [];
    other.on("message", (m) => {
      if (m.header.msg_type.startsWith("comm_")) heard.push(m);
    });
    // The owner's page is a widget manager of sorts: it takes the kernel's widget comms.
    const models = new Map<string, KernelComm>();
    owner.registerCommTarget(WIDGET_TARGET, (comm) => void models.set(comm.commId, comm));

    const slider = await run(owner, "import ipywidgets as w\ns = w.IntSlider(value=3)\ndisplay(s)", "slider");
    const view = slider.iopub.find((m) => m.header.msg_type === "display_data");
    const modelId = (view?.content.data as Record<string, { model_id?: string }> | undefined)?.[WIDGET_VIEW_MIME]?.model_id;
    expect(modelId, "the display_data's widget view").toMatch(/^[0-9a-f]{32}$/);
    const opened = slider.iopub.find((m) => m.header.msg_type === "comm_open" && m.content.comm_id === modelId);
    expect(opened?.content).toMatchObject({
      target_name: WIDGET_TARGET,
      data: { state: { _model_name: "IntSliderModel", value: 3 } },
    });
    await until(() => models.has(modelId!), "the owner's page to take the slider's comm");
    await until(() => heard.some((m) => m.header.msg_type === "comm_open" && m.content.comm_id === modelId), "the other page to hear it");

    // The owner's page moves the slider; the kernel echoes the update to every page.
    await models.get(modelId!)!.send({ method: "update", state: { value: 9 }, buffer_paths: [] }).done;
    await until(
      () =>
        heard.some(
          (m) =>
            m.content.comm_id === modelId &&
            (m.content.data as { method?: string; state?: { value?: number } }).method === "echo_update" &&
            (m.content.data as { state?: { value?: number } }).state?.value === 9,
        ),
      "the kernel's echo_update on the other page",
    );
    expect((await run(owner, "print(s.value)", "read")).text).toBe("9\n");
    // The comm package is imported after the bridge started (by ipywidgets): the bridge's import hook
    // pointed it at the kernel (ipywidgets 8.1 has a shim of its own; other comm users need this).
    const patched =
      "import comm\nprint(comm.get_comm_manager() is get_ipython().kernel.comm_manager, type(comm.create_comm(target_name='x')).__module__)";
    expect((await run(owner, patched, "read")).text).toBe("True ipykernel.comm.comm\n");

    // Saved with the notebook (debounced), as the page loads it and in the export.
    await until(async () => (await savedWidgets(nb.id))?.state[modelId!]?.state.value === 9, "the saved widget state", 30_000);
    const doc = (await savedWidgets(nb.id))!;
    expect(doc).toMatchObject({ version_major: 2, version_minor: 0 });
    expect(doc.state[modelId!]).toMatchObject({ model_name: "IntSliderModel", model_module: "@jupyter-widgets/controls" });
    const loaded = (await (await api(`/api/notebooks/${nb.id}`)).json()) as {
      metadata?: { widgets?: Record<string, WidgetStateDocument> };
    };
    expect(loaded.metadata?.widgets?.[WIDGET_STATE_MIME]?.state[modelId!]?.state.value).toBe(9);
    const exported = await api(`/api/notebooks/${nb.id}/export`);
    expect(exported.status).toBe(200);
    const ipynb = await exported.text();
    expect(validateIpynb(JSON.parse(ipynb))).toMatchObject({ ok: true });
    const exportedDoc = (JSON.parse(ipynb) as { metadata: { widgets: Record<string, WidgetStateDocument> } }).metadata.widgets[
      WIDGET_STATE_MIME
    ]!;
    expect(exportedDoc.state[modelId!]!.state.value).toBe(9);
    // The widget's view is the cell's output, as in nbformat; its comms are not.
    const cell = (await stack.db.notebooks.get(nb.id))!.cells.find((c) => c.id === "slider")!;
    expect(cell.outputs).toEqual([
      expect.objectContaining({ output_type: "display_data", data: expect.objectContaining({ [WIDGET_VIEW_MIME]: expect.anything() }) }),
    ]);

    // tqdm's notebook bar: a FloatProgress whose saved value reaches the total, then "success".
    await run(owner, "from tqdm.notebook import tqdm\nrows = [x for x in tqdm(range(50))]", "bar");
    const progress = async () =>
      Object.values((await savedWidgets(nb.id))?.state ?? {}).find((m) => m.model_name === "FloatProgressModel" && m.state.max === 50);
    await until(async () => (await progress())?.state.bar_style === "success", "the bar's saved state", 30_000);
    expect((await progress())!.state).toMatchObject({ value: 50, max: 50, bar_style: "success" });
    // The slider is still there beside it.
    expect((await savedWidgets(nb.id))!.state[modelId!]!.state.value).toBe(9);

    // What an Output widget captures (interact's result) reaches the pages, which fill the widget
    // with it, but is not the cell's output: a reload would show it twice.
    const captured = await run(
      owner,
      "out = w.Output()\ndisplay(out)\nwith out:\n    print('inside the widget')\nprint('in the cell')",
      "out",
    );
    expect(captured.text).toBe("inside the widget\nin the cell\n");
    await until(async () => {
      const c = (await stack.db.notebooks.get(nb.id))!.cells.find((x) => x.id === "out")!;
      return c.outputs.some((o) => o.output_type === "stream");
    }, "the cell's recorded stream");
    const outCell = (await stack.db.notebooks.get(nb.id))!.cells.find((c) => c.id === "out")!;
    const texts = outCell.outputs.filter((o) => o.output_type === "stream").map((o) => String((o as { text: unknown }).text));
    expect(texts.join("")).toBe("in the cell\n");
  }, 480_000);
});
