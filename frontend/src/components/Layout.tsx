import { NavLink, Outlet } from "react-router-dom";
import { hasRole, useCurrentUser, useLogout } from "../auth";
import { useQueue } from "../api/hooks";
import { useInboxSocket } from "../realtime/useInboxSocket";

export function Layout() {
  const me = useCurrentUser();
  const logout = useLogout();
  const socket = useInboxSocket();
  const queue = useQueue();
  const waiting = queue.data?.count ?? 0;
  const links: [string, string, boolean][] = [
    ["/inbox", "Inbox", true],
    ["/customers", "Customers", true],
    ["/assistants", "Assistants", hasRole(me, "supervisor")],
    ["/knowledge", "Knowledge", hasRole(me, "agent") || hasRole(me, "analyst")],
    ["/analytics", "Analytics", hasRole(me, "analyst")],
    ["/datasets", "Datasets", hasRole(me, "analyst")],
    ["/models", "Models", hasRole(me, "analyst")],
    ["/settings", "Settings", true],
  ];
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Parley</span>
        <span className="tenant">{String(me.tenant.name ?? "")}</span>
        <span className={`live live-${socket}`} role="status" aria-live="polite" data-testid="socket-state">
          {socket === "live" ? "Live" : socket === "connecting" ? "Connecting…" : "Offline — reconnecting"}
        </span>
        <span className="spacer" />
        <span className="who">
          {me.name || me.email} · {me.role}
        </span>
        <button type="button" className="link" onClick={() => void logout()}>
          Sign out
        </button>
      </header>
      <nav aria-label="Main" className="sidenav">
        <ul>
          {links
            .filter(([, , visible]) => visible)
            .map(([to, label]) => (
              <li key={to}>
                <NavLink to={to}>
                  {label}
                  {to === "/inbox" && waiting > 0 ? (
                    <span className="badge" aria-label={`${waiting} waiting for a human`}>
                      {waiting}
                    </span>
                  ) : null}
                </NavLink>
              </li>
            ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
