"use client";
import { useAuthStore } from "./auth-store";

export function AuthNotice() {
  const required = useAuthStore((s) => s.required);
  if (!required) return null;
  return (
    <div className="auth-notice" role="alert" data-testid="auth-required">
      <strong>Not signed in.</strong> Open the URL with the token printed by <code>npm start</code>.
    </div>
  );
}
