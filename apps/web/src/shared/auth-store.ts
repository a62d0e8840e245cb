import { create } from "zustand";
import { isPublicPage, loginPath } from "./login-paths";
import { goTo } from "./navigation";
import { pageShareLink } from "./share-link";

/** Set when the gateway refuses us (HTTP 401 or a refused socket). */
export const useAuthStore = create<{ required: boolean; markRequired: () => void }>((set) => ({
  required: false,
  markRequired: () => set({ required: true }),
}));

/** The one place a refusal is handled: every HTTP 401 (the gateway client's `onUnauthorized`)
 * and every refused socket lands here, and the page goes to the sign-in page, which brings the
 * user back to this path afterwards. On the sign-in and sign-up pages a 401 is their own answer
 * ("Wrong email or password"), so nothing happens there, nor on a page opened by a share link (a
 * guest: what the link opens, the page shows). Many calls failing at once leave once. */
export function markAuthRequired(): void {
  if (typeof window === "undefined" || isPublicPage(window.location.pathname) || pageShareLink()) return;
  if (useAuthStore.getState().required) return;
  useAuthStore.getState().markRequired();
  goTo(loginPath(window.location.pathname + window.location.search), { replace: true });
}
