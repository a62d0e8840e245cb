// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { renderWithQueries, stubGateway } from "../../test-support/render-with-gateway";

vi.mock("../../shared/navigation", () => ({ goTo: vi.fn() }));
const { goTo } = await import("../../shared/navigation");
const { LoginForm } = await import("./LoginForm");

const ada = { id: "u1", name: "Ada", email: "ada@example.com", role: "member" };

beforeEach(() => window.history.replaceState(null, "", "/login/"));
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.mocked(goTo).mockClear();
});

function signIn(email: string, password: string) {
  fireEvent.change(screen.getByTestId("login-email"), { target: { value: email } });
  fireEvent.change(screen.getByTestId("login-password"), { target: { value: password } });
  fireEvent.submit(screen.getByTestId("login-submit").closest("form")!);
}

describe("login page", () => {
  it("labels its fields for the browser's password manager", () => {
    renderWithQueries(<LoginForm next={null} />);
    expect(screen.getByLabelText("Email").getAttribute("autocomplete")).toBe("email");
    expect(screen.getByLabelText("Password").getAttribute("autocomplete")).toBe("current-password");
    expect((screen.getByTestId("login-error") as HTMLElement).hidden).toBe(true);
  });

  it("shows the gateway's error on a 401 and stays on the page", async () => {
    const requests = stubGateway({ "POST /api/auth/login": { status: 401, body: { error: "Wrong email or password." } } });
    renderWithQueries(<LoginForm next="/notebook/?id=nb1" />);
    signIn("ada@example.com", "not-it-at-all");
    await waitFor(() => expect(screen.getByTestId("login-error").textContent).toBe("Wrong email or password."));
    expect(screen.getByTestId("login-error").getAttribute("role")).toBe("alert");
    expect(requests.filter((r) => r.method === "POST")).toEqual([
      { method: "POST", path: "/api/auth/login", body: { email: "ada@example.com", password: "not-it-at-all" } },
    ]);
    expect(goTo).not.toHaveBeenCalled();
    expect((screen.getByTestId("login-submit") as HTMLButtonElement).disabled).toBe(false);
  });

  it("disables the button while signing in, then goes to next", async () => {
    let answer!: () => void;
    stubGateway({ "POST /api/auth/login": () => new Promise((r) => (answer = () => r({ status: 200, body: { user: ada } }))) });
    renderWithQueries(<LoginForm next="/notebook/?id=nb1" />);
    signIn("ada@example.com", "correct horse");
    await waitFor(() => expect((screen.getByTestId("login-submit") as HTMLButtonElement).disabled).toBe(true));
    answer();
    await waitFor(() => expect(goTo).toHaveBeenCalledWith("/notebook/?id=nb1"));
  });

  it("ignores a next that is an absolute URL and goes home", async () => {
    stubGateway({ "POST /api/auth/login": { status: 200, body: { user: ada } } });
    renderWithQueries(<LoginForm next="https://evil.example/steal" />);
    signIn("ada@example.com", "correct horse");
    await waitFor(() => expect(goTo).toHaveBeenCalledWith("/"));
    expect(goTo).toHaveBeenCalledTimes(1);
  });

  it("shows the rate limit's message", async () => {
    stubGateway({ "POST /api/auth/login": { status: 429, body: { error: "Too many sign-in attempts; try again in a minute." } } });
    renderWithQueries(<LoginForm next={null} />);
    signIn("ada@example.com", "whatever1234");
    await waitFor(() => expect(screen.getByTestId("login-error").textContent).toMatch(/Too many/));
    expect(goTo).not.toHaveBeenCalled();
  });

  it("shows the error a refused single sign-on came back with", () => {
    stubGateway({});
    renderWithQueries(<LoginForm next={null} error="There is no account here for eve@example.com." />);
    const alert = screen.getByTestId("login-error");
    expect(alert.hidden).toBe(false);
    expect(alert.textContent).toBe("There is no account here for eve@example.com.");
  });

  it("offers single sign-on when the gateway has it, coming back to next", async () => {
    stubGateway({ "GET /api/auth/providers": { status: 200, body: { oidc: { name: "Acme ID", reachable: true } } } });
    renderWithQueries(<LoginForm next="/notebook/?id=nb1" />);
    const button = await screen.findByTestId("oidc-sign-in");
    expect(button.textContent).toBe("Sign in with Acme ID");
    expect(button.getAttribute("href")).toBe(`/api/auth/oidc/start?next=${encodeURIComponent("/notebook/?id=nb1")}`);
  });

  it("says when the provider cannot be reached, and offers no button without one", async () => {
    stubGateway({ "GET /api/auth/providers": { status: 200, body: { oidc: { name: "Acme ID", reachable: false } } } });
    renderWithQueries(<LoginForm next={null} />);
    expect((await screen.findByTestId("oidc-unreachable")).textContent).toBe("Acme ID cannot be reached right now.");
    expect(screen.queryByTestId("oidc-sign-in")).toBeNull();
    cleanup();
    const requests = stubGateway({ "GET /api/auth/providers": { status: 200, body: { oidc: null } } });
    renderWithQueries(<LoginForm next={null} />);
    await waitFor(() => expect(requests).toHaveLength(1));
    expect(screen.queryByTestId("oidc-sign-in")).toBeNull();
    expect(screen.queryByTestId("oidc-unreachable")).toBeNull();
  });
});
