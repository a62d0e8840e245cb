import { expect, it } from "vitest";
import { executionDuration, formatDuration } from "./format-duration";

it("reads the duration from JupyterLab's execution metadata", () => {
  const metadata = { execution: { "iopub.execute_input": "2026-01-01T00:00:00.000Z", "shell.execute_reply": "2026-01-01T00:00:01.250Z" } };
  expect(executionDuration(metadata)).toBe(1250);
  expect(executionDuration({})).toBeNull();
  expect(executionDuration({ execution: { "iopub.execute_input": "garbage" } })).toBeNull();
});

it("formats durations the way a person reads them", () => {
  expect(formatDuration(42)).toBe("42 ms");
  expect(formatDuration(1250)).toBe("1.3 s");
  expect(formatDuration(125_000)).toBe("2 min 5 s");
});
