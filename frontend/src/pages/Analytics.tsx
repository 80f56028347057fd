import { useQueries, useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useSearchParams } from "react-router-dom";
import { type Conversation, type Page, request } from "../api/client";
import { endpoints } from "../api/endpoints";
import { useOptionalApi } from "../api/hooks";
import { cellText, DataTable, inferColumns } from "../components/DataTable";
import { LazyChart } from "../components/LazyChart";
import { ErrorMessage, Loading, QueryState } from "../components/States";
import { downloadCsv } from "../lib/csv";
import { formatDateTime, humanize } from "../lib/format";
import { STATUSES } from "../lib/inboxFilters";
import { CHANNEL_TYPES } from "./inbox/Inbox";

export interface AnalyticsFilters {
  from: string; // YYYY-MM-DD, inclusive
  to: string; // YYYY-MM-DD, inclusive
  channel_type: string;
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Date range and dimension filters live in the URL, so every analytics section (and a shared link) sees the same. */
export function useAnalyticsFilters(): [AnalyticsFilters, (changes: Partial<AnalyticsFilters>) => void] {
  const [params, setParams] = useSearchParams();
  const today = new Date();
  const filters: AnalyticsFilters = {
    from: params.get("from") ?? isoDay(new Date(today.getTime() - 13 * 86_400_000)),
    to: params.get("to") ?? isoDay(today),
    channel_type: params.get("channel_type") ?? "",
  };
  const update = (changes: Partial<AnalyticsFilters>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setParams(next, { replace: true });
  };
  return [filters, update];
}

/** Days of a range, at most `limit` (the most recent ones). */
export function daysBetween(from: string, to: string, limit = 31): string[] {
  const days: string[] = [];
  const start = new Date(`${from}T00:00:00Z`);
  const end = new Date(`${to}T00:00:00Z`);
  for (let d = end; d >= start && days.length < limit; d = new Date(d.getTime() - 86_400_000)) days.push(isoDay(d));
  return days.reverse();
}

function nextDay(day: string): string {
  return isoDay(new Date(new Date(`${day}T00:00:00Z`).getTime() + 86_400_000));
}

function conversationQuery(filters: AnalyticsFilters, extra: Record<string, string>, pageSize = 1): string {
  const params = new URLSearchParams({
    created_after: `${filters.from}T00:00:00Z`,
    created_before: `${nextDay(filters.to)}T00:00:00Z`,
    page_size: String(pageSize),
    ...extra,
  });
  if (filters.channel_type) params.set("channel_type", filters.channel_type);
  return `/api/v1/conversations/?${params}`;
}

export default function Analytics() {
  const [filters, update] = useAnalyticsFilters();
  return (
    <section aria-labelledby="analytics-title">
      <h1 id="analytics-title">Analytics</h1>
      <fieldset className="filters row">
        <legend className="sr-only">Filters shared by every analytics section</legend>
        <label>
          From
          <input type="date" value={filters.from} max={filters.to} onChange={(e) => update({ from: e.target.value })} />
        </label>
        <label>
          To
          <input type="date" value={filters.to} min={filters.from} onChange={(e) => update({ to: e.target.value })} />
        </label>
        <label>
          Channel
          <select value={filters.channel_type} onChange={(e) => update({ channel_type: e.target.value })}>
            <option value="">All</option>
            {CHANNEL_TYPES.map((t) => (
              <option key={t} value={t}>
                {humanize(t)}
              </option>
            ))}
          </select>
        </label>
      </fieldset>
      <Overview filters={filters} />
      <ConversationsTable filters={filters} />
      <h2>Conversation intelligence</h2>
      {ANALYTICS_SECTIONS.map(([slug, title]) => (
        <AnalyticsSection key={slug} slug={slug} title={title} filters={filters} />
      ))}
    </section>
  );
}

function Overview({ filters }: { filters: AnalyticsFilters }) {
  const days = daysBetween(filters.from, filters.to);
  const statusCounts = useQueries({
    queries: STATUSES.map(([status]) => ({
      queryKey: ["analytics-count", filters, "status", status],
      queryFn: () => request<Page<Conversation>>(conversationQuery(filters, { status })),
    })),
  });
  const dayCounts = useQueries({
    queries: days.map((day) => ({
      queryKey: ["analytics-count", filters.channel_type, "day", day],
      queryFn: () =>
        request<Page<Conversation>>(conversationQuery({ ...filters, from: day, to: day }, {})),
    })),
  });
  const total = statusCounts.reduce((sum, q) => sum + (q.data?.count ?? 0), 0);
  const count = (status: string) => statusCounts[STATUSES.findIndex(([s]) => s === status)]?.data?.count ?? 0;
  const resolved = count("resolved") + count("closed");
  const waiting = count("pending_human");
  const trendOption = useMemo(
    () => ({
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: days },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "line", name: "New conversations", data: dayCounts.map((q) => q.data?.count ?? 0) }],
    }),
    [days.join(), dayCounts.map((q) => q.data?.count).join()],
  );
  const error = statusCounts.find((q) => q.error)?.error;
  return (
    <section aria-labelledby="overview-title">
      <h2 id="overview-title">Overview</h2>
      {error ? <ErrorMessage error={error} /> : null}
      <dl className="metrics" data-testid="metrics">
        <div>
          <dt>Conversations</dt>
          <dd>{total}</dd>
        </div>
        <div>
          <dt>Resolved</dt>
          <dd>{total ? `${Math.round((100 * resolved) / total)}%` : "—"}</dd>
        </div>
        <div>
          <dt>With the assistant</dt>
          <dd>{count("bot")}</dd>
        </div>
        <div>
          <dt>Waiting for a human</dt>
          <dd>{waiting}</dd>
        </div>
      </dl>
      <LazyChart option={trendOption} label={`New conversations per day from ${filters.from} to ${filters.to}`} />
      <DataTable
        caption="Conversations by status"
        rows={STATUSES.map(([status, label]) => ({ id: status, status: label, conversations: count(status) }))}
        columns={[
          { key: "status", label: "Status" },
          { key: "conversations", label: "Conversations" },
        ]}
      />
    </section>
  );
}

function ConversationsTable({ filters }: { filters: AnalyticsFilters }) {
  const list = useQuery({
    queryKey: ["analytics-conversations", filters],
    queryFn: () => request<Page<Conversation>>(conversationQuery(filters, {}, 500)),
  });
  const columns = ["id", "created_at", "channel", "status", "priority", "customer", "assignee", "messages", "first_response_at", "resolved_at"];
  const rows = (list.data?.results ?? []).map((c) => [
    c.id,
    c.created_at,
    c.channel_type,
    c.status,
    c.priority,
    c.customer?.name ?? "",
    c.assignee_email,
    c.message_count,
    c.first_response_at ?? "",
    c.resolved_at ?? "",
  ]);
  return (
    <section aria-labelledby="rows-title">
      <div className="row">
        <h2 id="rows-title">Conversations</h2>
        <button
          type="button"
          disabled={!list.data}
          onClick={() => downloadCsv(`parley-conversations-${filters.from}-${filters.to}.csv`, columns, rows)}
        >
          Export CSV
        </button>
        <button type="button" onClick={() => window.print()}>
          Export PDF (print)
        </button>
      </div>
      {list.isPending ? <Loading /> : null}
      {list.isError ? <ErrorMessage error={list.error} /> : null}
      {list.data ? (
        <p className="muted">
          {list.data.count} conversations in range{list.data.count > 500 ? " (the first 500 are listed and exported)" : ""}.
        </p>
      ) : null}
      {list.data ? (
        <DataTable<Conversation>
          caption="Conversations in the range"
          rows={list.data.results.slice(0, 50)}
          columns={[
            { key: "created_at", label: "Created", render: (c) => formatDateTime(c.created_at) },
            { key: "channel_type", label: "Channel", render: (c) => humanize(c.channel_type) },
            { key: "status", label: "Status", render: (c) => humanize(c.status) },
            { key: "customer", label: "Customer", render: (c) => c.customer?.name ?? "" },
            { key: "message_count", label: "Messages" },
          ]}
        />
      ) : null}
    </section>
  );
}

export const ANALYTICS_SECTIONS: [string, string][] = [
  ["intents", "Intents and topics"],
  ["sentiment", "Sentiment"],
  ["flow", "Conversation flow"],
  ["failures", "Failure points"],
  ["agents", "Agent performance (humans and AI)"],
  ["economics", "AI economics"],
  ["alerts", "Alerts"],
];

type Json = Record<string, unknown>;

/** The first array of row objects in an analytics answer. */
export function rowsOf(data: unknown): Json[] {
  if (Array.isArray(data)) return data as Json[];
  if (data && typeof data === "object") {
    for (const value of Object.values(data as Json)) {
      if (Array.isArray(value) && value.length && typeof value[0] === "object") return value as Json[];
    }
  }
  return [];
}

function AnalyticsSection({ slug, title, filters }: { slug: string; title: string; filters: AnalyticsFilters }) {
  const params = new URLSearchParams({ date_from: filters.from, date_to: filters.to });
  if (filters.channel_type) params.set("channel", filters.channel_type);
  const query = useOptionalApi<unknown>(`${endpoints.analytics}${slug}/?${params}`);
  const data = query.data as Json | undefined;
  const rows = rowsOf(data);
  const columns = inferColumns(rows, 10);
  const sankey = data && Array.isArray(data.nodes) && Array.isArray(data.links);
  const numericKey = columns.find((c) => rows.some((r) => typeof r[c.key] === "number"))?.key;
  const labelKey = columns.find((c) => rows.some((r) => typeof r[c.key] === "string"))?.key;
  return (
    <section aria-labelledby={`sec-${slug}`} className="card">
      <div className="row">
        <h3 id={`sec-${slug}`}>{title}</h3>
        {rows.length ? (
          <button
            type="button"
            onClick={() =>
              downloadCsv(
                `parley-${slug}-${filters.from}-${filters.to}.csv`,
                columns.map((c) => c.key),
                rows.map((r) => columns.map((c) => cellText(r[c.key]))),
              )
            }
          >
            Export CSV
          </button>
        ) : null}
      </div>
      <QueryState query={query} feature={title}>
        {sankey ? (
          <LazyChart
            label={`${title} (Sankey)`}
            height={360}
            option={{ tooltip: {}, series: [{ type: "sankey", data: data.nodes, links: data.links, emphasis: { focus: "adjacency" } }] }}
          />
        ) : numericKey && labelKey ? (
          <LazyChart
            label={title}
            option={{
              tooltip: {},
              xAxis: { type: "category", data: rows.slice(0, 20).map((r) => String(r[labelKey])) },
              yAxis: { type: "value" },
              series: [{ type: "bar", data: rows.slice(0, 20).map((r) => r[numericKey]) }],
            }}
          />
        ) : null}
        <DataTable caption={title} rows={rows.slice(0, 100)} columns={columns} />
      </QueryState>
    </section>
  );
}
