"use client";
import { useAuthStore } from "./auth-store";

/** Shown for the moment between a refusal and the sign-in page loading (markAuthRequired). */
export function AuthNotice() {
  const required = useAuthStore((s) => s.required);
  if (!required) return null;
  return (
    <div className="auth-notice" role="alert" data-testid="auth-required">
      <strong>Not signed in.</strong> Taking you to the <a href="/login/">sign-in page</a>…
    </div>
  );
}
