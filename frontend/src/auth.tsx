import { useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useContext } from "react";
import { Navigate, useLocation } from "react-router-dom";
import { ApiError, type Me, request } from "./api/client";
import { useMe } from "./api/hooks";
import { Loading } from "./components/States";

const MeContext = createContext<Me | null>(null);

export function useCurrentUser(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error("useCurrentUser outside <RequireAuth>");
  return me;
}

const RANK: Record<string, number> = { viewer: 0, analyst: 1, agent: 1, supervisor: 2, admin: 3, owner: 4 };

/** Role checks mirror the backend's (parley/accounts/roles.py); the server is the authority. */
export function hasRole(me: Me, minimum: "agent" | "analyst" | "supervisor" | "admin" | "owner"): boolean {
  if (minimum === "agent") return ["agent", "supervisor", "admin", "owner"].includes(me.role);
  if (minimum === "analyst") return ["analyst", "supervisor", "admin", "owner"].includes(me.role);
  return (RANK[me.role] ?? 0) >= (RANK[minimum] ?? 99);
}

export function RequireAuth({ children }: { children: ReactNode }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <Loading label="Checking your session…" />;
  if (me.isError) {
    const status = me.error instanceof ApiError ? me.error.status : 0;
    if (status === 401 || status === 403) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
    return (
      <div className="error" role="alert">
        Cannot reach the server: {me.error.message}
      </div>
    );
  }
  return <MeContext.Provider value={me.data}>{children}</MeContext.Provider>;
}

export async function ensureCsrf(): Promise<void> {
  await request("/api/v1/auth/csrf/");
}

export function useLogout() {
  const client = useQueryClient();
  return async () => {
    await request("/api/v1/auth/logout/", { method: "POST" });
    client.clear();
    window.location.assign("/app/login");
  };
}
