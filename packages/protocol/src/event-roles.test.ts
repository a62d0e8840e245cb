import { describe, expect, it } from "vitest";
import { kernelMessageRoles } from "./event-roles";
import { COMM_MSG_TYPES, expectsReply } from "./jupyter";
import { BROWSER_MSG_TYPES } from "./validate";

describe("kernel message roles", () => {
  it("lets a runner, not a viewer, send comm messages and ask for the kernel's comms", () => {
    for (const type of [...COMM_MSG_TYPES, "comm_info_request"]) {
      expect(BROWSER_MSG_TYPES.has(type), type).toBe(true);
      expect(kernelMessageRoles[type as keyof typeof kernelMessageRoles], type).toBe("runner");
    }
    expect(Object.values(kernelMessageRoles)).not.toContain("viewer");
  });

  it("knows which messages a kernel answers: requests, never comm messages or input replies", () => {
    expect(expectsReply("execute_request")).toBe(true);
    expect(expectsReply("comm_info_request")).toBe(true);
    for (const type of [...COMM_MSG_TYPES, "input_reply"]) expect(expectsReply(type), type).toBe(false);
  });
});
