// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";

vi.mock("./navigation", () => ({ goTo: vi.fn() }));
const { goTo } = await import("./navigation");
const { markAuthRequired, useAuthStore } = await import("./auth-store");

afterEach(() => {
  vi.mocked(goTo).mockClear();
  useAuthStore.setState({ required: false });
  window.history.replaceState(null, "", "/");
});

describe("markAuthRequired", () => {
  it("sends the page to sign in, to come back to where it was, once however many calls fail", () => {
    window.history.replaceState(null, "", "/notebook/?id=nb1");
    markAuthRequired();
    markAuthRequired();
    expect(goTo).toHaveBeenCalledTimes(1);
    expect(goTo).toHaveBeenCalledWith("/login/?next=%2Fnotebook%2F%3Fid%3Dnb1", { replace: true });
    expect(useAuthStore.getState().required).toBe(true);
  });

  it("stays on the sign-in and sign-up pages, where a 401 is the answer to show", () => {
    for (const path of ["/login/?next=%2F", "/signup/?invite=x"]) {
      window.history.replaceState(null, "", path);
      markAuthRequired();
    }
    expect(goTo).not.toHaveBeenCalled();
  });
});
