import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ApiError, api, type Page, type Schemas, unwrap } from "../api/client";
import { useMe } from "../api/hooks";
import { ErrorMessage } from "../components/States";
import type { AnalyticsFilters } from "./Analytics";

export type ReportJob = Schemas["ReportJob"];

/** How often a queued or rendering report is polled. */
export const REPORT_POLL_MS = 1000;

/** A report of yours finished longer ago than this is not offered again when the page opens. */
export const RECENT_REPORT_MS = 60 * 60_000;

export const reportKeys = {
  job: (id: string) => ["analytics-report", id] as const,
  latest: (userId: string) => ["analytics-report-latest", userId] as const,
};

/** The report's filters as the API takes them (the page's range and channel). */
export function reportRequest(filters: AnalyticsFilters): Schemas["AnalyticsFilterRequest"] {
  return {
    start: filters.from,
    end: filters.to,
    business_hours: false,
    ...(filters.channel_type ? { channel_type: filters.channel_type } : {}),
  };
}

export function isActive(job: Pick<ReportJob, "status"> | undefined): boolean {
  return job?.status === "queued" || job?.status === "running";
}

/** Whether your last report is worth showing when the page opens: still rendering, or finished recently. */
export function isWorthResuming(job: Pick<ReportJob, "status" | "finished_at"> | undefined, now = Date.now()): boolean {
  if (!job) return false;
  if (isActive(job)) return true;
  return Boolean(job.finished_at) && now - Date.parse(job.finished_at ?? "") < RECENT_REPORT_MS;
}

/** "2026-10-01 – 2026-10-31" (or "all time") for the filters a job was asked with. */
export function reportPeriod(job: Pick<ReportJob, "filters">): string {
  const filters = (job.filters ?? {}) as Record<string, unknown>;
  const start = typeof filters.start === "string" ? filters.start : "";
  const end = typeof filters.end === "string" ? filters.end : "";
  if (!start && !end) return "all time";
  return `${start || "beginning"} – ${end || "today"}`;
}

/** What the job is doing, for the status line. */
export function reportStatusText(job: ReportJob): string {
  if (job.status === "queued") return job.error ? `Queued again (${job.error})` : "Queued for rendering…";
  if (job.status === "running") return `Rendering… ${job.progress}%${job.stage ? ` (${job.stage})` : ""}`;
  if (job.status === "done") return "Ready.";
  return `The PDF report failed: ${job.error || "no reason given"}`;
}

/** The server's reason, with each refused field ("end: end is before start"). */
export function requestErrorText(error: unknown): string {
  if (error instanceof ApiError && error.body && typeof error.body === "object") {
    const errors = (error.body as { errors?: Record<string, unknown> }).errors;
    if (errors && Object.keys(errors).length) {
      return Object.entries(errors)
        .map(([field, reasons]) => `${field}: ${Array.isArray(reasons) ? reasons.join(" ") : String(reasons)}`)
        .join("; ");
    }
  }
  return error instanceof Error ? error.message : "Something went wrong.";
}

/**
 * The "PDF report" button: asks a worker to render the report of the page's filters, shows its
 * progress while it renders, then offers the download (or says why it failed).
 */
export function PdfReport({ filters }: { filters: AnalyticsFilters }) {
  const [jobId, setJobId] = useState<string | null>(null);
  // Coming back to the page while your report renders (or soon after) shows it again.
  const me = useMe();
  const userId = me.data?.id ?? "";
  const latest = useQuery({
    queryKey: reportKeys.latest(userId),
    enabled: Boolean(userId),
    staleTime: Infinity,
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/analytics/reports/", { params: { query: { requested_by: userId, page_size: 1 } } }),
      ) as Page<ReportJob>,
  });
  const last = latest.data?.results[0];
  useEffect(() => {
    if (last && isWorthResuming(last)) setJobId((current) => current ?? last.id);
  }, [last]);
  const create = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/analytics/reports/", { body: reportRequest(filters) })) as ReportJob,
    onSuccess: (job) => setJobId(job.id),
  });
  const job = useQuery({
    queryKey: reportKeys.job(jobId ?? ""),
    enabled: Boolean(jobId),
    initialData: create.data?.id === jobId ? create.data : last?.id === jobId ? last : undefined,
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/analytics/reports/{id}/", { params: { path: { id: jobId ?? "" } } })) as ReportJob,
    refetchInterval: (query) => (isActive(query.state.data) ? REPORT_POLL_MS : false),
  });
  const current = job.data;
  const busy = create.isPending || isActive(current);
  return (
    <span className="report-job" data-testid="pdf-report" style={{ display: "inline-flex", gap: "0.5rem", alignItems: "center", flexWrap: "wrap" }}>
      <button type="button" disabled={busy} onClick={() => create.mutate()}>
        {busy ? "Rendering…" : "PDF report"}
      </button>
      {current && isActive(current) ? (
        <span className="progress-cell" role="status" aria-live="polite">
          <progress max={100} value={current.progress} aria-label="PDF report rendering" />
          <span>{reportStatusText(current)}</span>
        </span>
      ) : null}
      {current?.status === "done" && current.download_url ? (
        <a className="button" href={current.download_url} download={current.filename}>
          Download PDF ({reportPeriod(current)})
        </a>
      ) : null}
      {current?.status === "failed" ? (
        <span className="error" role="alert">
          {reportStatusText(current)}
        </span>
      ) : null}
      {create.isError ? (
        <span className="error" role="alert">
          The report could not be requested: {requestErrorText(create.error)}
        </span>
      ) : null}
      {job.isError ? <ErrorMessage error={job.error} /> : null}
    </span>
  );
}
