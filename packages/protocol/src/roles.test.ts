import { describe, expect, it } from "vitest";
import { roleAtLeast, weakerRole } from "./roles";

describe("notebook roles", () => {
  it("orders viewer < runner < editor < owner", () => {
    expect(roleAtLeast("editor", "runner")).toBe(true);
    expect(roleAtLeast("runner", "editor")).toBe(false);
    expect(roleAtLeast("owner", "owner")).toBe(true);
    expect(roleAtLeast(null, "viewer")).toBe(false);
  });
  it("a cap takes the weaker role", () => {
    expect(weakerRole("owner", "runner")).toBe("runner");
    expect(weakerRole("viewer", "editor")).toBe("viewer");
  });
});
