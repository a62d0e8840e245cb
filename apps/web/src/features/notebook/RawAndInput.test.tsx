// @vitest-environment jsdom
// Raw cells and input() prompts on the notebook page, wired to a real store, commands and kernel
// connection talking socket.io to a gateway double.
import { afterEach, describe, expect, it } from "vitest";
import { act, cleanup, fireEvent, screen, within } from "@testing-library/react";
import { makeMessage, type Notebook } from "@cellar/protocol";
import { renderNotebook, startGateway, waitUntil } from "../../test-support/render-notebook";

afterEach(cleanup);

const notebook = (): Notebook => ({
  id: "nb",
  userId: "u",
  title: "Raw",
  createdAt: "",
  updatedAt: "",
  lastRunAt: null,
  cells: [
    { id: "c1", cell_type: "code", source: "name = input('Your name: ')", outputs: [], execution_count: null, metadata: {} },
    { id: "r1", cell_type: "raw", source: "# not a heading\n**not bold**", outputs: [], execution_count: null, metadata: {} },
  ],
});

async function open() {
  const gw = await startGateway("idle");
  const { store } = renderNotebook(gw, notebook);
  await waitUntil(() => store.getState().kernel.status === "idle", "idle");
  return { gw, store };
}

describe("raw cells", () => {
  it("show their source as plain text, unrendered and editable, and never run", async () => {
    const { gw, store } = await open();
    const raw = screen.getAllByTestId("cell")[1];
    expect(raw.dataset.cellType).toBe("raw");
    expect(within(raw).queryByTestId("markdown-rendered")).toBeNull();
    const editor = raw.querySelector(".cellar-editor-raw .cm-content") as HTMLElement;
    expect(editor.textContent).toBe("# not a heading**not bold**"); // two lines, as written
    expect(editor.getAttribute("contenteditable")).toBe("true");
    act(() => store.getState().selectCell("r1"));
    fireEvent.keyDown(raw, { key: "Enter", shiftKey: true });
    await new Promise((r) => setTimeout(r, 30));
    expect(gw.sent).toHaveLength(0);
  });

  it("R makes the selected cell raw and Y makes it code again; the toolbar menu shows and sets the type", async () => {
    const { store } = await open();
    act(() => store.getState().selectCell("c1"));
    const select = screen.getByTestId("cell-type-select") as HTMLSelectElement;
    expect(select.value).toBe("code");
    fireEvent.keyDown(screen.getAllByTestId("cell")[0], { key: "r" });
    expect(screen.getAllByTestId("cell")[0].dataset.cellType).toBe("raw");
    expect(select.value).toBe("raw");
    fireEvent.keyDown(screen.getAllByTestId("cell")[0], { key: "y" });
    expect(screen.getAllByTestId("cell")[0].dataset.cellType).toBe("code");
    fireEvent.change(select, { target: { value: "raw" } });
    expect(store.getState().cells[0].cell_type).toBe("raw");
  });
});

describe("input() prompts", () => {
  it("show the prompt with a focused box in the running cell; Enter answers and keys do not act on cells", async () => {
    const { gw, store } = await open();
    fireEvent.click(within(screen.getAllByTestId("cell")[0]).getByTestId("run-this-cell"));
    await waitUntil(() => gw.sent.length === 1, "the run");
    const ask = makeMessage("input_request", { prompt: "Your name: ", password: false }, { channel: "stdin", parent: gw.sent[0] });
    act(() => void gw.socket().emit("kernel:message", { notebookId: "nb", message: ask }));
    const prompt = await screen.findByTestId("input-prompt");
    expect(prompt.textContent).toContain("Your name:");
    const box = within(prompt).getByTestId("input-prompt-box") as HTMLInputElement;
    expect(box.type).toBe("text");
    expect(document.activeElement).toBe(box);
    // Typing "d" (twice) or "a" here must not delete or insert cells.
    for (const key of ["A", "d", "d", "a"]) fireEvent.keyDown(box, { key });
    fireEvent.change(box, { target: { value: "Ada" } });
    expect(store.getState().cells).toHaveLength(2);
    fireEvent.keyDown(box, { key: "Enter" });
    await waitUntil(() => gw.sent.length === 2, "the answer");
    expect(gw.sent[1]).toMatchObject({ channel: "stdin", header: { msg_type: "input_reply" }, content: { value: "Ada" } });
    expect(screen.queryByTestId("input-prompt")).toBeNull();
  });

  it("use a password box for getpass()", async () => {
    const { gw } = await open();
    fireEvent.click(within(screen.getAllByTestId("cell")[0]).getByTestId("run-this-cell"));
    await waitUntil(() => gw.sent.length === 1, "the run");
    const ask = makeMessage("input_request", { prompt: "Password: ", password: true }, { channel: "stdin", parent: gw.sent[0] });
    act(() => void gw.socket().emit("kernel:message", { notebookId: "nb", message: ask }));
    const box = (await screen.findByTestId("input-prompt-box")) as HTMLInputElement;
    expect(box.type).toBe("password");
  });
});
