import { describe, expect, it } from "vitest";
import { makeMessage } from "./jupyter";
import { applyDisplayUpdate, applyOutputMessage, emptyCellOutput, type CellOutputState } from "./outputs";

const msg = (type: string, content: Record<string, unknown>) => makeMessage(type, content, { channel: "iopub" });
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

  it("leaves comm messages out of a cell's outputs: a widget's traffic is live, not a result", () => {
    const before = apply([msg("stream", { name: "stdout", text: "x\n" })]);
    for (const m of [
      msg("comm_open", { comm_id: "c", target_name: "jupyter.widget", data: {} }),
      msg("comm_msg", { comm_id: "c", data: { method: "update" } }),
      msg("comm_close", { comm_id: "c", data: {} }),
    ])
      expect(applyOutputMessage(before, m)).toBe(before);
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

describe("display updates across cells", () => {
  it("updates a display wherever it is shown and leaves other cells as they were", () => {
    const shown = apply([msg("display_data", { data: { "text/plain": "'a'" }, metadata: {}, transient: { display_id: "d1" } })]);
    const other = apply([msg("stream", { name: "stdout", text: "x\n" })]);
    const cells = { c1: shown, c2: other };
    const update = msg("update_display_data", { data: { "text/plain": "'b'" }, metadata: {}, transient: { display_id: "d1" } });
    const next = applyDisplayUpdate(cells, update);
    expect(next.c1.outputs[0]).toMatchObject({ data: { "text/plain": "'b'" }, display_id: "d1" });
    expect(next.c2).toBe(other);
    const unknown = msg("update_display_data", { data: { "text/plain": "'c'" }, metadata: {}, transient: { display_id: "nope" } });
    expect(applyDisplayUpdate(next, unknown)).toBe(next);
  });

  it("clear_output(wait=True) keeps the old output until the next one replaces it", () => {
    const s = apply([msg("stream", { name: "stdout", text: "10%\n" }), msg("clear_output", { wait: true })]);
    expect(s.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "10%\n" }]);
    const after = applyOutputMessage(s, msg("stream", { name: "stdout", text: "20%\n" }));
    expect(after.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "20%\n" }]);
  });
});
