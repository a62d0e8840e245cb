"use client";
import { Suspense } from "react";
import { useSearchParams } from "next/navigation";
import { SignupForm } from "../../features/account/SignupForm";

// Served without a session: the invite link the owner shares is /signup/?invite=TOKEN.
function SignupRoute() {
  return <SignupForm invite={useSearchParams().get("invite")} />;
}

export default function SignupPage() {
  return (
    <Suspense fallback={<div className="page-message">Loading…</div>}>
      <SignupRoute />
    </Suspense>
  );
}
