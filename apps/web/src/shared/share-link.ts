// A page opened by a share link (`/notebook/?id=…&link=…`) holds the link's secret in its
// address: every gateway call carries it (shared/gateway.ts), and a signed-out visitor with it is
// a guest, not someone to send to the sign-in page.

/** The share link this page was opened with, if any. */
export function pageShareLink(): string | null {
  if (typeof window === "undefined") return null;
  return new URLSearchParams(window.location.search).get("link") || null;
}
