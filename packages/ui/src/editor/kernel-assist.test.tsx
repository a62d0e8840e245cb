import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, waitFor } from "@testing-library/react";
import { EditorView } from "@codemirror/view";
import { CellEditor } from "./CellEditor";
import type { EditorAssist } from "./kernel-assist";

afterEach(cleanup);

const TAB = { key: "Tab", code: "Tab", keyCode: 9 };

function editor(value: string, assist: Partial<EditorAssist> = {}) {
  const onChange = vi.fn();
  const full: EditorAssist = { complete: vi.fn(async () => null), inspect: vi.fn(async () => null), ...assist };
  const utils = render(<CellEditor value={value} language="python" onChange={onChange} assist={full} />);
  const content = utils.container.querySelector(".cm-content") as HTMLElement;
  const view = EditorView.findFromDOM(content)!;
  view.dispatch({ selection: { anchor: value.length } }); // cursor at the end, where the user typed
  return { content, view, onChange, assist: full };
}

describe("Tab completion", () => {
  it("asks with the code and cursor and inserts a single match directly", async () => {
    const { content, view, assist } = editor("import math\nmath.fl", {
      complete: vi.fn(async () => ({ from: 17, to: 19, items: [{ label: "floor", type: "function" }] })),
    });
    fireEvent.keyDown(content, TAB);
    expect(assist.complete).toHaveBeenCalledWith("import math\nmath.fl", 19);
    await waitFor(() => expect(view.state.doc.toString()).toBe("import math\nmath.floor"));
    expect(view.state.selection.main.head).toBe(22);
  });

  it("offers several matches in a popup with their types; Enter takes the chosen one", async () => {
    const { content, view } = editor("xs.ap", {
      complete: vi.fn(async () => ({
        from: 3,
        to: 5,
        items: [
          { label: "append", type: "function" },
          { label: "apply", type: "instance" },
        ],
      })),
    });
    fireEvent.keyDown(content, TAB);
    await waitFor(() => expect(document.querySelectorAll(".cm-tooltip-autocomplete li")).toHaveLength(2));
    const first = document.querySelector(".cm-tooltip-autocomplete li")!;
    expect(first.textContent).toContain("append");
    expect(first.querySelector(".cm-completionDetail")?.textContent).toBe("function");
    await new Promise((r) => setTimeout(r, 100)); // CodeMirror ignores Enter in the popup's first 75 ms
    fireEvent.keyDown(content, { key: "Enter", code: "Enter", keyCode: 13 });
    await waitFor(() => expect(view.state.doc.toString()).toBe("xs.append"));
  });

  it("indents instead of asking at a line's start or after whitespace", () => {
    const { content, view, assist } = editor("if x:\n");
    fireEvent.keyDown(content, TAB);
    expect(assist.complete).not.toHaveBeenCalled();
    expect(view.state.doc.toString()).toBe("if x:\n    ");
  });

  it("shows why nothing came back, e.g. a busy kernel", async () => {
    const { content } = editor("x.", { complete: vi.fn(async () => ({ message: "The kernel is busy running a cell." })) });
    fireEvent.keyDown(content, TAB);
    await waitFor(() =>
      expect(document.querySelector("[data-testid=assist-hint]")?.textContent).toBe("The kernel is busy running a cell."),
    );
  });

  it("drops an answer that comes after the user typed on", async () => {
    let answer!: (v: Awaited<ReturnType<EditorAssist["complete"]>>) => void;
    const { content, view } = editor("ma", { complete: () => new Promise((r) => (answer = r)) });
    fireEvent.keyDown(content, TAB);
    view.dispatch({ changes: { from: 2, insert: "t" }, selection: { anchor: 3 } });
    answer({ from: 0, to: 2, items: [{ label: "math" }] });
    await new Promise((r) => setTimeout(r, 20));
    expect(view.state.doc.toString()).toBe("mat");
  });
});

describe("Shift+Tab inspection", () => {
  it("shows the docstring under the cursor, coloured text escaped; typing closes it", async () => {
    const { content, view, assist } = editor("len(", {
      inspect: vi.fn(async () => ({ text: "\u001b[0;31mDocstring:\u001b[0m Return the number of items <in> a container." })),
    });
    fireEvent.keyDown(content, { ...TAB, shiftKey: true });
    expect(assist.inspect).toHaveBeenCalledWith("len(", 4);
    await waitFor(() => expect(document.querySelector("[data-testid=inspect-tooltip]")).not.toBeNull());
    const tip = document.querySelector("[data-testid=inspect-tooltip]")!;
    expect(tip.textContent).toBe("Docstring: Return the number of items <in> a container.");
    expect(tip.querySelector("span.ansi-red-fg")).not.toBeNull();
    view.dispatch({ changes: { from: 4, insert: "x" }, selection: { anchor: 5 } });
    await waitFor(() => expect(document.querySelector("[data-testid=inspect-tooltip]")).toBeNull());
  });

  it("Escape closes the tooltip first and only then leaves the editor", async () => {
    const onEscape = vi.fn();
    const inspect = vi.fn(async () => ({ text: "Docstring" }));
    const utils = render(
      <CellEditor
        value="len("
        language="python"
        onChange={() => {}}
        onEscape={onEscape}
        assist={{ complete: async () => null, inspect }}
      />,
    );
    const content = utils.container.querySelector(".cm-content") as HTMLElement;
    EditorView.findFromDOM(content)!.dispatch({ selection: { anchor: 4 } });
    fireEvent.keyDown(content, { ...TAB, shiftKey: true });
    await waitFor(() => expect(document.querySelector("[data-testid=inspect-tooltip]")).not.toBeNull());
    fireEvent.keyDown(content, { key: "Escape", code: "Escape", keyCode: 27 });
    await waitFor(() => expect(document.querySelector("[data-testid=inspect-tooltip]")).toBeNull());
    expect(onEscape).not.toHaveBeenCalled();
    fireEvent.keyDown(content, { key: "Escape", code: "Escape", keyCode: 27 });
    expect(onEscape).toHaveBeenCalledOnce();
  });
});
