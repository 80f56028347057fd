import { useQuery } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import { Link, Outlet, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { type Conversation, type Membership, type Page, request } from "../../api/client";
import { useConversations, useQueue } from "../../api/hooks";
import { hasRole, useCurrentUser } from "../../auth";
import { ErrorMessage, Loading } from "../../components/States";
import { formatTime, humanize } from "../../lib/format";
import { type InboxFilters, PRIORITIES, STATUSES } from "../../lib/inboxFilters";
import { useHotkeys } from "../../lib/useHotkeys";

export const CHANNEL_TYPES = ["webchat", "whatsapp", "messenger", "email", "sms", "voice", "generic", "import"];

export function readFilters(params: URLSearchParams, meId: string): InboxFilters {
  const assignee = params.get("assignee") ?? "";
  return {
    status: params.get("status") ?? "",
    channel_type: params.get("channel_type") ?? "",
    assignee: assignee === "me" ? meId : assignee === "none" ? "" : assignee,
    unassigned: assignee === "none" || undefined,
    team: params.get("team") ?? "",
    label: params.get("label") ?? "",
    priority: params.get("priority") ?? "",
    unread: params.get("unread") === "1" || undefined,
  };
}

export function useMembers(enabled: boolean) {
  return useQuery({
    queryKey: ["members"],
    enabled,
    queryFn: () => request<Page<Membership>>("/api/v1/members/?page_size=500"),
    staleTime: 60_000,
  });
}

export function Inbox() {
  const me = useCurrentUser();
  const [params, setParams] = useSearchParams();
  const { conversationId } = useParams();
  const navigate = useNavigate();
  const filters = useMemo(() => readFilters(params, String(me.id ?? "")), [params, me.id]);
  const conversations = useConversations(filters);
  const queue = useQueue();
  const members = useMembers(hasRole(me, "supervisor"));
  const rows = conversations.data?.results ?? [];
  const unreadTotal = rows.reduce((sum, item) => sum + (item.unread_count ?? 0), 0);

  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };

  const open = useCallback(
    (conversation: Conversation | undefined) => {
      if (conversation) navigate({ pathname: `/inbox/${conversation.id}`, search: params.toString() });
    },
    [navigate, params],
  );

  const move = (step: number) => {
    if (rows.length === 0) return;
    const index = rows.findIndex((item) => item.id === conversationId);
    const next = index < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, index + step));
    open(rows[next]);
    window.setTimeout(() => document.getElementById(`conv-${rows[next]?.id}`)?.focus(), 0);
  };
  useHotkeys({ j: () => move(1), k: () => move(-1), "?": () => document.getElementById("shortcut-help")?.toggleAttribute("open") });

  return (
    <div className={`inbox ${conversationId ? "has-detail" : ""}`}>
      <section className="inbox-list" aria-labelledby="inbox-title">
        <div className="inbox-head">
          <h1 id="inbox-title">Inbox</h1>
          <p className="muted" aria-live="polite">
            {conversations.data ? `${conversations.data.count} conversations` : ""}
            {unreadTotal ? ` · ${unreadTotal} unread messages` : ""}
          </p>
          <button
            type="button"
            className={`queue-button ${filters.status === "pending_human" ? "active" : ""}`}
            aria-pressed={filters.status === "pending_human"}
            onClick={() => setFilter("status", filters.status === "pending_human" ? "" : "pending_human")}
          >
            Waiting for a human <span className="badge">{queue.data?.count ?? 0}</span>
          </button>
        </div>
        <fieldset className="filters">
          <legend className="sr-only">Filters</legend>
          <label>
            Status
            <select value={params.get("status") ?? ""} onChange={(e) => setFilter("status", e.target.value)}>
              <option value="">All</option>
              {STATUSES.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Channel
            <select value={params.get("channel_type") ?? ""} onChange={(e) => setFilter("channel_type", e.target.value)}>
              <option value="">All</option>
              {CHANNEL_TYPES.map((value) => (
                <option key={value} value={value}>
                  {humanize(value)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Assignee
            <select value={params.get("assignee") ?? ""} onChange={(e) => setFilter("assignee", e.target.value)}>
              <option value="">Anyone</option>
              <option value="me">Me</option>
              <option value="none">Unassigned</option>
              {(members.data?.results ?? [])
                .filter((m) => m.user_id !== me.id)
                .map((m) => (
                  <option key={m.user_id} value={m.user_id}>
                    {m.name || m.email}
                  </option>
                ))}
            </select>
          </label>
          <label>
            Priority
            <select value={params.get("priority") ?? ""} onChange={(e) => setFilter("priority", e.target.value)}>
              <option value="">Any</option>
              {PRIORITIES.map((value) => (
                <option key={value} value={value}>
                  {humanize(value)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Team
            <input value={params.get("team") ?? ""} onChange={(e) => setFilter("team", e.target.value)} placeholder="any" />
          </label>
          <label>
            Label
            <input value={params.get("label") ?? ""} onChange={(e) => setFilter("label", e.target.value)} placeholder="any" />
          </label>
          <label className="check">
            <input type="checkbox" checked={params.get("unread") === "1"} onChange={(e) => setFilter("unread", e.target.checked ? "1" : "")} />
            Unread only
          </label>
        </fieldset>
        {conversations.isPending ? <Loading /> : null}
        {conversations.isError ? <ErrorMessage error={conversations.error} /> : null}
        {conversations.data && rows.length === 0 ? <p className="muted">No conversations match these filters.</p> : null}
        <ul className="conversation-list" aria-label="Conversations" data-testid="conversation-list">
          {rows.map((item) => (
            <li key={item.id}>
              <Link
                id={`conv-${item.id}`}
                to={{ pathname: `/inbox/${item.id}`, search: params.toString() }}
                className={`conversation-row ${item.id === conversationId ? "selected" : ""} ${item.unread_count ? "unread" : ""}`}
                aria-current={item.id === conversationId ? "page" : undefined}
                data-testid="conversation-row"
              >
                <span className="row-top">
                  <span className="name">{item.customer?.name || item.customer?.email || "Visitor"}</span>
                  <time dateTime={item.last_message_at ?? item.created_at}>{formatTime(item.last_message_at ?? item.created_at)}</time>
                </span>
                <span className="preview">{item.last_message_preview || item.subject || "(no messages)"}</span>
                <span className="row-meta">
                  <span className={`chip channel-${item.channel_type}`}>{humanize(item.channel_type)}</span>
                  <span className={`chip status-${item.status}`}>{humanize(item.status)}</span>
                  {item.priority !== "normal" ? <span className={`chip prio-${item.priority}`}>{item.priority}</span> : null}
                  {item.unread_count ? (
                    <span className="badge" aria-label={`${item.unread_count} unread`}>
                      {item.unread_count}
                    </span>
                  ) : null}
                </span>
              </Link>
            </li>
          ))}
        </ul>
        <details id="shortcut-help" className="shortcuts">
          <summary>Keyboard shortcuts</summary>
          <dl>
            <dt>j / k</dt>
            <dd>next / previous conversation</dd>
            <dt>r</dt>
            <dd>reply</dd>
            <dt>n</dt>
            <dd>private note</dd>
            <dt>/</dt>
            <dd>canned responses</dd>
            <dt>e</dt>
            <dd>resolve</dd>
            <dt>t</dt>
            <dd>take over / hand back</dd>
            <dt>?</dt>
            <dd>show this help</dd>
          </dl>
        </details>
      </section>
      <section className="inbox-detail" aria-label="Conversation">
        {conversationId ? <Outlet /> : <p className="muted empty-detail">Select a conversation (j / k to move).</p>}
      </section>
    </div>
  );
}
