import { describe, expect, it } from "vitest";
import { CommandKeymap, DOUBLE_PRESS_MS, globalCommandFor } from "./command-keymap";

describe("command-mode keys", () => {
  const keymap = () => new CommandKeymap();

  it("maps Jupyter's single keys", () => {
    const k = keymap();
    const single = (key: string, mods = {}) => k.commandFor({ key, ...mods }, 0);
    expect(single("Enter")).toBe("enter-edit");
    expect(single("Enter", { shiftKey: true })).toBe("run-advance");
    expect(single("Enter", { ctrlKey: true })).toBe("run-in-place");
    expect(single("Enter", { metaKey: true })).toBe("run-in-place");
    expect(single("Enter", { altKey: true })).toBe("run-insert-below");
    expect(single("a")).toBe("insert-above");
    expect(single("b")).toBe("insert-below");
    expect(single("z")).toBe("undo-delete");
    expect(single("m")).toBe("to-markdown");
    expect(single("r")).toBe("to-raw");
    expect(single("y")).toBe("to-code");
    expect(single("c")).toBe("copy");
    expect(single("x")).toBe("cut");
    expect(single("v")).toBe("paste-below");
    expect(single("V", { shiftKey: true })).toBe("paste-above");
    expect(single("ArrowUp")).toBe("select-previous");
    expect(single("j")).toBe("select-next");
    expect(single("ArrowDown", { shiftKey: true })).toBe("extend-next");
    expect(single("K", { shiftKey: true })).toBe("extend-previous");
  });

  it("leaves keys with Ctrl/Alt (browser shortcuts, copy of text) alone", () => {
    const k = keymap();
    expect(k.commandFor({ key: "c", ctrlKey: true })).toBeNull();
    expect(k.commandFor({ key: "a", altKey: true })).toBeNull();
    expect(k.commandFor({ key: "q" })).toBeNull();
  });

  it("D D deletes only when the two presses are close together", () => {
    const k = keymap();
    expect(k.commandFor({ key: "d" }, 1000)).toBeNull();
    expect(k.commandFor({ key: "d" }, 1000 + DOUBLE_PRESS_MS - 1)).toBe("delete");
    expect(k.commandFor({ key: "d" }, 5000)).toBeNull();
    expect(k.commandFor({ key: "d" }, 5000 + DOUBLE_PRESS_MS + 1)).toBeNull();
  });

  it("another key between the two Ds cancels the delete", () => {
    const k = keymap();
    k.commandFor({ key: "d" }, 0);
    k.commandFor({ key: "j" }, 10);
    expect(k.commandFor({ key: "d" }, 20)).toBeNull();
  });

  it("I I interrupts", () => {
    const k = keymap();
    k.commandFor({ key: "i" }, 0);
    expect(k.commandFor({ key: "i" }, 100)).toBe("interrupt");
  });

  it("Ctrl+S saves and Ctrl+F finds in either mode", () => {
    expect(globalCommandFor({ key: "s", ctrlKey: true })).toBe("save");
    expect(globalCommandFor({ key: "s", metaKey: true })).toBe("save");
    expect(globalCommandFor({ key: "f", ctrlKey: true })).toBe("find");
    expect(globalCommandFor({ key: "s" })).toBeNull();
  });
});
