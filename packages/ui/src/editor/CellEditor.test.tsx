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
