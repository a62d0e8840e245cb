"use client";
import type { ReactNode } from "react";

/** The frame of the sign-in and sign-up pages: the brand and one card, nothing that needs a session. */
export function AccountPage({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="page account-page">
      <main className="account-card">
        <div className="brand account-brand">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>
          <span className="brand-name">Cellar</span>
        </div>
        <h1>{title}</h1>
        {children}
      </main>
    </div>
  );
}

/** The gateway's refusal, read out by screen readers as it appears. */
export function FormError({ error, testId }: { error: Error | null; testId: string }) {
  return (
    <div className="form-error" role="alert" data-testid={testId} hidden={!error}>
      {error?.message}
    </div>
  );
}
