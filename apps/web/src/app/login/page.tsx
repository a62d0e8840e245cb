"use client";
import { Suspense } from "react";
import { useSearchParams } from "next/navigation";
import { LoginForm } from "../../features/account/LoginForm";

// Served without a session; the gateway sends signed-out pages here with ?next=<path>.
function LoginRoute() {
  return <LoginForm next={useSearchParams().get("next")} />;
}

export default function LoginPage() {
  return (
    <Suspense fallback={<div className="page-message">Loading…</div>}>
      <LoginRoute />
    </Suspense>
  );
}
