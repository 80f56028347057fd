import { useQueries, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
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
import { PdfReport } from "./AnalyticsReport";
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
      <Intelligence filters={filters} />
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

/** Intelligence sections served by the analytics API: [path, title, export table or ""]. */
export const ANALYTICS_SECTIONS: [string, string, string][] = [
  ["breakdown", "Intents, topics and other dimensions", "breakdown"],
  ["flow", "Conversation flow", "flow"],
  ["failures", "Failure points", "failures"],
  ["agents", "Agent performance (humans and AI)", "agents"],
  ["economics", "AI economics", ""],
  ["csat", "Customer satisfaction", ""],
  ["alerts", "Alerts", ""],
];

type Json = Record<string, unknown>;

/** The first array of row objects in an analytics answer (searching one level down). */
export function rowsOf(data: unknown): Json[] {
  if (Array.isArray(data)) return data as Json[];
  if (data && typeof data === "object") {
    const values = Object.values(data as Json);
    for (const value of values) {
      if (Array.isArray(value) && value.length && typeof value[0] === "object") return value as Json[];
    }
    for (const value of values) {
      if (value && typeof value === "object" && !Array.isArray(value)) {
        const nested = rowsOf(value);
        if (nested.length) return nested;
      }
    }
  }
  return [];
}

/** A {nodes, links} graph anywhere in an answer, shaped for an ECharts Sankey. */
export function sankeyOf(data: unknown): { nodes: { name: string; label?: string }[]; links: { source: string; target: string; value: number }[] } | null {
  if (!data || typeof data !== "object") return null;
  const record = data as Json;
  if (Array.isArray(record.nodes) && Array.isArray(record.links) && record.links.length) {
    return {
      nodes: (record.nodes as Json[]).map((n) => ({ name: String(n.id ?? n.name), label: String(n.label ?? n.id ?? n.name) })),
      links: (record.links as Json[]).map((l) => ({ source: String(l.source), target: String(l.target), value: Number(l.value ?? l.count ?? 0) })),
    };
  }
  for (const value of Object.values(record)) {
    const found = sankeyOf(value);
    if (found) return found;
  }
  return null;
}

export function analyticsParams(filters: AnalyticsFilters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({ start: filters.from, end: filters.to, ...extra });
  if (filters.channel_type) params.set("channel_type", filters.channel_type);
  return params.toString();
}

function Metrics({ data }: { data: Json }) {
  const entries = Object.entries(data).filter(([, v]) => typeof v === "number");
  return (
    <dl className="metrics" data-testid="summary-metrics">
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{humanize(key)}</dt>
          <dd>{key.endsWith("rate") || key.endsWith("share") ? `${Math.round(Number(value) * 1000) / 10}%` : cellText(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Intelligence({ filters }: { filters: AnalyticsFilters }) {
  const summary = useOptionalApi<Json>(`${endpoints.analytics}summary/?${analyticsParams(filters)}`);
  const series = useOptionalApi<Json | Json[]>(`${endpoints.analytics}timeseries/?${analyticsParams(filters)}`);
  const points = rowsOf(series.data);
  const option = useMemo(
    () => ({
      tooltip: { trigger: "axis" },
      legend: {},
      xAxis: { type: "category", data: points.map((p) => String(p.day)) },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", max: 1 }],
      series: [
        { type: "bar", name: "Conversations", data: points.map((p) => p.conversations ?? 0) },
        { type: "line", name: "Resolution rate", yAxisIndex: 1, data: points.map((p) => p.resolution_rate ?? null) },
        { type: "line", name: "AI resolution rate", yAxisIndex: 1, data: points.map((p) => p.ai_resolution_rate ?? null) },
        { type: "line", name: "Negative sentiment share", yAxisIndex: 1, data: points.map((p) => p.negative_message_share ?? null) },
      ],
    }),
    [points],
  );
  return (
    <section aria-labelledby="intel-title">
      <div className="row">
        <h2 id="intel-title">Support metrics</h2>
        {summary.data ? (
          <>
            <a className="button" href={`${endpoints.analytics}export/summary/?${analyticsParams(filters)}`} download>
              Summary CSV
            </a>
            <a className="button" href={`${endpoints.analytics}export/conversations/?${analyticsParams(filters)}`} download>
              Per-conversation CSV
            </a>
            <PdfReport filters={filters} />
          </>
        ) : null}
      </div>
      <QueryState query={summary} feature="Support metrics">
        <Metrics data={summary.data ?? {}} />
      </QueryState>
      {points.length ? <LazyChart option={option} label="Conversations, resolution rates and negative sentiment per day" /> : null}
      {ANALYTICS_SECTIONS.map(([slug, title, table]) => (
        <AnalyticsSection key={slug} slug={slug} title={title} table={table} filters={filters} />
      ))}
    </section>
  );
}

const BREAKDOWN_DIMENSIONS = ["intent", "topic", "channel_type", "language", "outcome", "handover_reason", "assistant", "agent", "team", "prompt_version"];

function AnalyticsSection({ slug, title, table, filters }: { slug: string; title: string; table: string; filters: AnalyticsFilters }) {
  const [by, setBy] = useState("intent");
  const extra: Record<string, string> = slug === "breakdown" ? { by } : {};
  const query = useOptionalApi<unknown>(`${endpoints.analytics}${slug}/?${analyticsParams(filters, extra)}`);
  const data = query.data as Json | undefined;
  const rows = rowsOf(data);
  const columns = inferColumns(rows, 10);
  const sankey = sankeyOf(data);
  const numericKey = columns.find((c) => !["key", "id"].includes(c.key) && rows.some((r) => typeof r[c.key] === "number"))?.key;
  const labelKey = columns.find((c) => ["label", "name", "kind", "key"].includes(c.key))?.key;
  return (
    <section aria-labelledby={`sec-${slug}`} className="card">
      <div className="row">
        <h3 id={`sec-${slug}`}>{title}</h3>
        {slug === "breakdown" ? (
          <label>
            By
            <select value={by} onChange={(e) => setBy(e.target.value)}>
              {BREAKDOWN_DIMENSIONS.map((d) => (
                <option key={d} value={d}>
                  {humanize(d)}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        {table && query.data ? (
          <a className="button" href={`${endpoints.analytics}export/${table}/?${analyticsParams(filters, extra)}`} download>
            Export CSV
          </a>
        ) : null}
      </div>
      <QueryState query={query} feature={title}>
        {sankey ? (
          <LazyChart
            label={`${title} (Sankey diagram)`}
            height={380}
            option={{
              tooltip: {},
              series: [
                {
                  type: "sankey",
                  data: sankey.nodes,
                  links: sankey.links,
                  emphasis: { focus: "adjacency" },
                  label: { formatter: (p: { data?: { label?: string } }) => p.data?.label ?? "" },
                },
              ],
            }}
          />
        ) : numericKey && labelKey && rows.length ? (
          <LazyChart
            label={title}
            option={{
              tooltip: {},
              grid: { containLabel: true },
              xAxis: { type: "category", data: rows.slice(0, 20).map((r) => String(r[labelKey])), axisLabel: { rotate: 30 } },
              yAxis: { type: "value" },
              series: [{ type: "bar", name: humanize(numericKey), data: rows.slice(0, 20).map((r) => r[numericKey]) }],
            }}
          />
        ) : null}
        {!rows.length && data && typeof data === "object" && !Array.isArray(data) ? <Metrics data={data} /> : null}
        <DataTable caption={title} rows={rows.slice(0, 100)} columns={columns} empty="No data for this range yet." />
      </QueryState>
    </section>
  );
}
