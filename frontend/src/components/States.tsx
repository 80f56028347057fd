import type { ReactNode } from "react";
import { ApiError } from "../api/client";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      {label}
    </p>
  );
}

export function NotAvailable({ feature, detail }: { feature: string; detail?: ReactNode }) {
  return (
    <div className="notice" role="status" data-testid="not-available">
      <strong>{feature} is not available yet.</strong>
      <p>{detail ?? "This server does not provide the API for it yet. It will appear here once it does."}</p>
    </div>
  );
}

export function ErrorMessage({ error }: { error: unknown }) {
  const text = error instanceof Error ? error.message : "Something went wrong.";
  return (
    <div className="error" role="alert">
      {text}
    </div>
  );
}

/** Loading / not available / error / content, for a query against an optional API. */
export function QueryState({
  query,
  feature,
  children,
}: {
  query: { isPending: boolean; error: unknown; isError: boolean };
  feature: string;
  children: ReactNode;
}) {
  if (query.isError) {
    if (query.error instanceof ApiError && query.error.notAvailable) return <NotAvailable feature={feature} />;
    return <ErrorMessage error={query.error} />;
  }
  if (query.isPending) return <Loading />;
  return <>{children}</>;
}
