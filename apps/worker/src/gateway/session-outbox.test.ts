import { describe, expect, it } from "vitest";
import { executeRequest, makeMessage } from "@cellar/protocol";
import { SessionOutbox } from "./session-outbox";

describe("SessionOutbox", () => {
  it("numbers messages from 1, names the cell of the run they belong to, and keeps them until acknowledged", () => {
    const box = new SessionOutbox("s1");
    const req = executeRequest("print(1)", { cellId: "c1" });
    box.noteRequest(req);
    const a = box.add(makeMessage("stream", { name: "stdout", text: "1\n" }, { channel: "iopub", parent: req }));
    const b = box.add(makeMessage("status", { execution_state: "idle" }, { channel: "iopub" }));
    expect([a.seq, b.seq]).toEqual([1, 2]);
    expect(a.epoch).toBe(box.epoch);
    expect(new SessionOutbox("s1").epoch).not.toBe(box.epoch); // another process's numbering
    expect(a.cellId).toBe("c1");
    expect(b.cellId).toBeUndefined();
    expect(box.acked).toEqual({ epoch: box.epoch, seq: 0 });
    box.ack(1);
    expect(box.pending().map((e) => e.seq)).toEqual([2]);
    expect(box.acked).toEqual({ epoch: box.epoch, seq: 1 });
    box.ack(5);
    expect(box.pending()).toEqual([]);
    // What it reports on the next connect: no further than it numbered.
    expect(box.acked.seq).toBe(2);
    expect(box.add(makeMessage("status", { execution_state: "busy" }, { channel: "iopub" })).seq).toBe(3);
  });

  it("keeps only the newest messages when the gateway has been away too long", () => {
    const box = new SessionOutbox("s1", 3);
    for (let i = 0; i < 5; i++) box.add(makeMessage("status", { execution_state: "idle" }, { channel: "iopub" }));
    expect(box.pending().map((e) => e.seq)).toEqual([3, 4, 5]);
  });
});
