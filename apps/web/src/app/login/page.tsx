"use client";
import { Suspense } from "react";
import { useSearchParams } from "next/navigation";
import { LoginForm } from "../../features/account/LoginForm";

// Served without a session; the gateway sends signed-out pages here with ?next=<path>, and a
// refused single sign-on with ?error=<message>.
function LoginRoute() {
  const params = useSearchParams();
  return <LoginForm next={params.get("next")} error={params.get("error")} />;
}

export default function LoginPage() {
  return (
    <Suspense fallback={<div className="page-message">Loading…</div>}>
      <LoginRoute />
    </Suspense>
  );
}
