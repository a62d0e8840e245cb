import { afterEach, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render } from "@testing-library/react";
import { CellEditor } from "./CellEditor";

afterEach(cleanup);

function editor(props: Partial<Parameters<typeof CellEditor>[0]> = {}) {
  const onChange = vi.fn();
  const onRun = vi.fn();
  const utils = render(<CellEditor value="print(1)" language="python" onChange={onChange} onRun={onRun} {...props} />);
  const content = utils.container.querySelector(".cm-content") as HTMLElement;
  return { ...utils, content, onChange, onRun };
}

it("shows the source in a CodeMirror editor with Python highlighting", () => {
  const { content } = editor();
  expect(content.textContent).toBe("print(1)");
  expect(content.getAttribute("contenteditable")).toBe("true");
  expect(content.querySelector("span")).not.toBeNull(); // tokens are styled spans
});

it("maps Shift+Enter, Ctrl+Enter and Alt+Enter to run modes", () => {
  const { content, onRun } = editor();
  fireEvent.keyDown(content, { key: "Enter", code: "Enter", keyCode: 13, shiftKey: true });
  fireEvent.keyDown(content, { key: "Enter", code: "Enter", keyCode: 13, ctrlKey: true });
  fireEvent.keyDown(content, { key: "Enter", code: "Enter", keyCode: 13, altKey: true });
  expect(onRun.mock.calls).toEqual([["advance"], ["in-place"], ["insert-below"]]);
});

it("takes a new value from outside without reporting it as an edit", () => {
  const { content, rerender, onChange, onRun } = editor();
  rerender(<CellEditor value="x = 2" language="python" onChange={onChange} onRun={onRun} />);
  expect(content.textContent).toBe("x = 2");
  expect(onChange).not.toHaveBeenCalled();
});

it("marks find matches, the current one apart, and follows new queries", () => {
  const { container, rerender, onChange, onRun } = editor({
    value: "df = df + df",
    searchPattern: /df/gi,
    currentMatch: { from: 5, to: 7 },
  });
  expect(container.querySelectorAll(".cellar-search-match")).toHaveLength(3);
  expect(container.querySelector(".cellar-search-current")?.textContent).toBe("df");
  rerender(<CellEditor value="df = df + df" language="python" onChange={onChange} onRun={onRun} searchPattern={null} />);
  expect(container.querySelectorAll(".cellar-search-match")).toHaveLength(0);
});

it("Escape reports leaving the editor", () => {
  const onEscape = vi.fn();
  const { content } = editor({ onEscape });
  fireEvent.keyDown(content, { key: "Escape", code: "Escape", keyCode: 27 });
  expect(onEscape).toHaveBeenCalledOnce();
});
