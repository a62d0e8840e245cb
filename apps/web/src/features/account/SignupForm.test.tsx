// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { renderWithQueries, stubGateway } from "../../test-support/render-with-gateway";

vi.mock("../../shared/navigation", () => ({ goTo: vi.fn() }));
const { goTo } = await import("../../shared/navigation");
const { SignupForm } = await import("./SignupForm");

const gone = { status: 410, body: { error: "This invite has been used or has expired." } };
const valid = { status: 200, body: { invitedBy: "Grace", expiresAt: "2030-01-01T00:00:00.000Z" } };

beforeEach(() => window.history.replaceState(null, "", "/signup/?invite=tok"));
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.mocked(goTo).mockClear();
});

function fill(name: string, email: string, password: string) {
  fireEvent.change(screen.getByTestId("signup-name"), { target: { value: name } });
  fireEvent.change(screen.getByTestId("signup-email"), { target: { value: email } });
  fireEvent.change(screen.getByTestId("signup-password"), { target: { value: password } });
  fireEvent.submit(screen.getByTestId("signup-submit").closest("form")!);
}

describe("sign-up page", () => {
  it("with a used invite says so and shows no form", async () => {
    stubGateway({ "GET /api/invites/tok": gone });
    renderWithQueries(<SignupForm invite="tok" />);
    await waitFor(() => expect(screen.getByTestId("signup-invite-gone").textContent).toBe("This invite has been used or has expired"));
    expect(screen.queryByTestId("signup-name")).toBeNull();
    expect(screen.queryByTestId("signup-submit")).toBeNull();
  });

  it("says who invited you, and signs up with the invite, then goes home", async () => {
    const requests = stubGateway({
      "GET /api/invites/tok": valid,
      "POST /api/auth/signup": { status: 200, body: { user: { id: "u2", name: "Ada", email: "ada@example.com", role: "member" } } },
    });
    renderWithQueries(<SignupForm invite="tok" />);
    await waitFor(() => expect(screen.getByTestId("signup-invited-by").textContent).toBe("Grace invited you to Cellar"));
    const password = screen.getByLabelText(/Password/);
    expect(password.getAttribute("autocomplete")).toBe("new-password");
    expect(screen.getByText("At least 10 characters.")).toBeTruthy();
    fill("Ada", "ada@example.com", "correct horse battery");
    await waitFor(() => expect(goTo).toHaveBeenCalledWith("/"));
    expect(requests.at(-1)).toEqual({
      method: "POST",
      path: "/api/auth/signup",
      body: { invite: "tok", name: "Ada", email: "ada@example.com", password: "correct horse battery" },
    });
  });

  it("shows the gateway's error for a taken email and keeps the form", async () => {
    stubGateway({
      "GET /api/invites/tok": valid,
      "POST /api/auth/signup": { status: 409, body: { error: "That email already has an account." } },
    });
    renderWithQueries(<SignupForm invite="tok" />);
    await screen.findByTestId("signup-name");
    fill("Ada", "ada@example.com", "correct horse battery");
    await waitFor(() => expect(screen.getByTestId("signup-error").textContent).toBe("That email already has an account."));
    expect(screen.getByTestId("signup-submit")).toBeTruthy();
    expect(goTo).not.toHaveBeenCalled();
  });

  it("drops the form when the invite is used up while it was open", async () => {
    stubGateway({ "GET /api/invites/tok": valid, "POST /api/auth/signup": gone });
    renderWithQueries(<SignupForm invite="tok" />);
    await screen.findByTestId("signup-name");
    fill("Ada", "ada@example.com", "correct horse battery");
    await screen.findByTestId("signup-invite-gone");
    expect(screen.queryByTestId("signup-name")).toBeNull();
  });

  it("offers to sign up with single sign-on, carrying the invite", async () => {
    stubGateway({
      "GET /api/invites/tok": valid,
      "GET /api/auth/providers": { status: 200, body: { oidc: { name: "Acme ID", reachable: true } } },
    });
    renderWithQueries(<SignupForm invite="tok" />);
    const button = await screen.findByTestId("oidc-sign-in");
    expect(button.textContent).toBe("Sign up with Acme ID");
    expect(button.getAttribute("href")).toBe("/api/auth/oidc/start?invite=tok");
  });
});
