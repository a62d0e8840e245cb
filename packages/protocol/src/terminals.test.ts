import { describe, expect, it } from "vitest";
import {
  TERMINAL_INPUT_MAX,
  validateTerminalEvent,
  validateTerminalInput,
  validateTerminalOpen,
  validateTerminalRequest,
} from "./terminals";

describe("terminal validators", () => {
  it("accept what the relay sends", () => {
    expect(validateTerminalRequest({ type: "open", id: "a-1", cols: 80, rows: 24 }).ok).toBe(true);
    expect(validateTerminalRequest({ type: "input", id: "a-1", data: "ls\r" }).ok).toBe(true);
    expect(validateTerminalEvent({ type: "output", id: "a-1", data: "aGk=" }).ok).toBe(true);
    expect(validateTerminalEvent({ type: "exit", id: "a-1", reason: "kernel restarted" }).ok).toBe(true);
  });

  it("refuse bad sizes, ids, unknown types and oversized input with a reason", () => {
    expect(validateTerminalOpen({ notebookId: "nb", cols: 0, rows: 24 })).toMatchObject({
      ok: false,
      error: expect.stringContaining("cols"),
    });
    expect(validateTerminalRequest({ type: "open", id: "../x", cols: 80, rows: 24 })).toMatchObject({
      ok: false,
      error: expect.stringContaining("terminal id"),
    });
    expect(validateTerminalRequest({ type: "exec", id: "a" }).ok).toBe(false);
    expect(validateTerminalInput({ notebookId: "nb", terminalId: "a", data: "x".repeat(TERMINAL_INPUT_MAX + 1) }).ok).toBe(false);
    expect(validateTerminalOpen({ notebookId: "../nb", cols: 80, rows: 24 }).ok).toBe(false);
  });
});
