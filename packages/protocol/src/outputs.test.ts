import { describe, expect, it } from "vitest";
import { makeMessage } from "./jupyter";
import { applyOutputMessage, emptyCellOutput, type CellOutputState } from "./outputs";

const msg = (type: string, content: object) => makeMessage(type, content, { channel: "iopub" });
const apply = (msgs: ReturnType<typeof msg>[], maxChars = 1_000_000) =>
  msgs.reduce<CellOutputState>((s, m) => applyOutputMessage(s, m, { maxChars }), emptyCellOutput());

describe("outputs reducer", () => {
  it("merges consecutive stream chunks of the same stream, like Jupyter", () => {
    const s = apply([
      msg("stream", { name: "stdout", text: "0\n" }),
      msg("stream", { name: "stdout", text: "1\n" }),
      msg("stream", { name: "stderr", text: "warn\n" }),
      msg("stream", { name: "stdout", text: "2\n" }),
    ]);
    expect(s.outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "0\n1\n" },
      { output_type: "stream", name: "stderr", text: "warn\n" },
      { output_type: "stream", name: "stdout", text: "2\n" },
    ]);
  });

  it("records execution counts from execute_input and execute_result", () => {
    const s = apply([
      msg("execute_input", { code: "1+1", execution_count: 7 }),
      msg("execute_result", { data: { "text/plain": "2" }, metadata: {}, execution_count: 7 }),
    ]);
    expect(s.executionCount).toBe(7);
    expect(s.outputs[0]).toMatchObject({ output_type: "execute_result", data: { "text/plain": "2" } });
  });

  it("clear_output(wait=True) clears only when the next output arrives", () => {
    let s = apply([msg("stream", { name: "stdout", text: "10%" }), msg("clear_output", { wait: true })]);
    expect(s.outputs).toHaveLength(1);
    s = applyOutputMessage(s, msg("stream", { name: "stdout", text: "20%" }));
    expect(s.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "20%" }]);
  });

  it("update_display_data replaces the output with that display id", () => {
    const s = apply([
      msg("display_data", { data: { "text/plain": "a" }, metadata: {}, transient: { display_id: "d1" } }),
      msg("update_display_data", { data: { "text/plain": "b" }, metadata: {}, transient: { display_id: "d1" } }),
    ]);
    expect(s.outputs).toEqual([{ output_type: "display_data", data: { "text/plain": "b" }, metadata: {}, display_id: "d1" }]);
  });

  it("truncates a flood at the limit and says so, keeping what fit", () => {
    const lines = Array.from({ length: 100 }, (_, i) => msg("stream", { name: "stdout", text: `${i}`.padEnd(99) + "\n" }));
    const s = apply(lines, 1_000);
    expect(s.truncated).toBe(true);
    expect(s.outputs[0]).toMatchObject({ output_type: "stream" });
    expect((s.outputs[0] as any).text).toHaveLength(1_000);
    expect(s.outputs[1]).toMatchObject({ output_type: "display_data", metadata: { cellar_truncated: true } });
    expect(s.outputs).toHaveLength(2);
  });
});
