import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  isActive,
  isWorthResuming,
  PdfReport,
  type ReportJob,
  reportPeriod,
  reportRequest,
  reportStatusText,
} from "../pages/AnalyticsReport";

type Answer = { status: number; body: unknown };
type Call = { path: string; method: string; body: unknown };

/** A fetch double for the typed client: records (path, method, JSON body) and answers from `handler`. */
function mockFetch(handler: (path: string, method: string, body: unknown) => Answer | undefined) {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const isRequest = typeof input === "object" && "method" in input;
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const path = url.replace(/^https?:\/\/[^/]+/, "");
      const method = (isRequest ? (input as Request).method : (init.method ?? "GET")).toUpperCase();
      let body: unknown;
      if (isRequest && method !== "GET") {
        const text = await (input as Request).clone().text();
        body = text ? JSON.parse(text) : undefined;
      } else if (typeof init.body === "string") body = JSON.parse(init.body);
      calls.push({ path, method, body });
      const answer = handler(path, method, body) ?? { status: 404, body: { detail: "Not found." } };
      return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "Content-Type": "application/json" } });
    }),
  );
  return calls;
}

const JOB_ID = "33333333-3333-3333-3333-333333333333";
const FILTERS = { from: "2026-10-01", to: "2026-10-31", channel_type: "email" };

function reportJob(overrides: Partial<ReportJob> = {}): ReportJob {
  return {
    id: JOB_ID,
    filters: { start: "2026-10-01", end: "2026-10-31", channel_type: "email" },
    status: "queued",
    progress: 0,
    stage: "",
    attempts: 0,
    error: "",
    size_bytes: 0,
    filename: "parley-report-2026-10-01-2026-10-31.pdf",
    download_url: null,
    requested_by: null,
    requested_by_label: "analyst@acme.test",
    created_at: "2026-11-01T10:00:00Z",
    started_at: null,
    finished_at: null,
    ...overrides,
  } as ReportJob;
}

function renderReport() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <PdfReport filters={FILTERS} />
    </QueryClientProvider>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("PDF report helpers", () => {
  it("sends the page's range and channel, and describes a job", () => {
    expect(reportRequest(FILTERS)).toEqual({ start: "2026-10-01", end: "2026-10-31", business_hours: false, channel_type: "email" });
    expect(reportRequest({ ...FILTERS, channel_type: "" })).toEqual({ start: "2026-10-01", end: "2026-10-31", business_hours: false });
    expect(isActive(reportJob({ status: "queued" }))).toBe(true);
    expect(isActive(reportJob({ status: "running" }))).toBe(true);
    expect(isActive(reportJob({ status: "done" }))).toBe(false);
    expect(isActive(undefined)).toBe(false);
    expect(reportPeriod(reportJob())).toBe("2026-10-01 – 2026-10-31");
    expect(reportPeriod(reportJob({ filters: {} }))).toBe("all time");
    expect(reportPeriod(reportJob({ filters: { end: "2026-10-31" } }))).toBe("beginning – 2026-10-31");
    expect(reportStatusText(reportJob({ status: "running", progress: 45, stage: "drawing trends" }))).toBe(
      "Rendering… 45% (drawing trends)",
    );
    expect(reportStatusText(reportJob({ status: "queued", error: "attempt failed, retrying: OperationalError" }))).toBe(
      "Queued again (attempt failed, retrying: OperationalError)",
    );
    expect(reportStatusText(reportJob({ status: "failed", error: "" }))).toBe("The PDF report failed: no reason given");
  });

  it("resumes your last report only while it renders or soon after it finished", () => {
    const now = Date.parse("2026-11-01T12:00:00Z");
    expect(isWorthResuming(reportJob({ status: "running" }), now)).toBe(true);
    expect(isWorthResuming(reportJob({ status: "done", finished_at: "2026-11-01T11:30:00Z" }), now)).toBe(true);
    expect(isWorthResuming(reportJob({ status: "failed", finished_at: "2026-11-01T09:00:00Z" }), now)).toBe(false);
    expect(isWorthResuming(undefined, now)).toBe(false);
  });
});

describe("PdfReport", () => {
  it("creates a job, shows its progress while it renders and then offers the download", async () => {
    const answers = [
      reportJob({ status: "running", progress: 45, stage: "drawing trends", attempts: 1 }),
      reportJob({
        status: "done",
        progress: 100,
        attempts: 1,
        size_bytes: 43_210,
        download_url: `/api/v1/analytics/reports/${JOB_ID}/file/`,
      }),
    ];
    const calls = mockFetch((path, method) => {
      if (path === "/api/v1/analytics/reports/" && method === "POST") return { status: 202, body: reportJob() };
      if (path === `/api/v1/analytics/reports/${JOB_ID}/`) return { status: 200, body: answers.length > 1 ? answers.shift() : answers[0] };
      return undefined;
    });
    renderReport();
    await userEvent.click(screen.getByRole("button", { name: "PDF report" }));

    expect(await screen.findByRole("button", { name: "Rendering…" })).toBeDisabled();
    expect(await screen.findByText("Rendering… 45% (drawing trends)")).toBeInTheDocument();
    expect(screen.getByRole("progressbar", { name: "PDF report rendering" })).toHaveAttribute("value", "45");

    const link = await screen.findByRole("link", { name: "Download PDF (2026-10-01 – 2026-10-31)" }, { timeout: 5000 });
    expect(link).toHaveAttribute("href", `/api/v1/analytics/reports/${JOB_ID}/file/`);
    expect(link).toHaveAttribute("download", "parley-report-2026-10-01-2026-10-31.pdf");
    expect(screen.getByRole("button", { name: "PDF report" })).toBeEnabled();
    expect(screen.queryByRole("progressbar")).not.toBeInTheDocument();

    const posts = calls.filter((c) => c.method === "POST");
    expect(posts).toEqual([
      {
        path: "/api/v1/analytics/reports/",
        method: "POST",
        body: { start: "2026-10-01", end: "2026-10-31", business_hours: false, channel_type: "email" },
      },
    ]);
    // Polling stops once the job is done.
    const polls = calls.filter((c) => c.method === "GET").length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(calls.filter((c) => c.method === "GET").length).toBe(polls);
  });

  it("shows why a report failed and lets the analyst ask again", async () => {
    const failed = reportJob({
      status: "failed",
      attempts: 3,
      error: "rendering failed after 3 attempts: RuntimeError: the chart library ran out of fonts",
    });
    const calls = mockFetch((path, method) => {
      if (path === "/api/v1/analytics/reports/" && method === "POST") return { status: 202, body: reportJob() };
      if (path === `/api/v1/analytics/reports/${JOB_ID}/`) return { status: 200, body: failed };
      return undefined;
    });
    renderReport();
    await userEvent.click(screen.getByRole("button", { name: "PDF report" }));
    expect(await screen.findByRole("alert", {}, { timeout: 5000 })).toHaveTextContent(
      "The PDF report failed: rendering failed after 3 attempts: RuntimeError: the chart library ran out of fonts",
    );
    expect(screen.queryByRole("link", { name: /Download PDF/ })).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "PDF report" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "POST")).toHaveLength(2));
  });

  it("shows your report still rendering when you come back to the page", async () => {
    const me = { id: "44444444-4444-4444-4444-444444444444", email: "analyst@acme.test", name: "Ana", role: "analyst", tenant: {}, tenants: [] };
    const calls = mockFetch((path) => {
      if (path === "/api/v1/auth/me/") return { status: 200, body: me };
      if (path === `/api/v1/analytics/reports/?requested_by=${me.id}&page_size=1`)
        return { status: 200, body: { count: 1, next: null, previous: null, results: [reportJob({ status: "running", progress: 30 })] } };
      if (path === `/api/v1/analytics/reports/${JOB_ID}/`)
        return { status: 200, body: reportJob({ status: "done", progress: 100, download_url: `/api/v1/analytics/reports/${JOB_ID}/file/` }) };
      return undefined;
    });
    renderReport();
    expect(await screen.findByText("Rendering… 30%")).toBeInTheDocument();
    expect(await screen.findByRole("link", { name: /Download PDF/ }, { timeout: 5000 })).toHaveAttribute(
      "href",
      `/api/v1/analytics/reports/${JOB_ID}/file/`,
    );
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });

  it("shows the server's reason when the filters are refused", async () => {
    mockFetch((path, method) =>
      path === "/api/v1/analytics/reports/" && method === "POST"
        ? { status: 400, body: { detail: "Invalid input.", code: "invalid", errors: { end: ["end is before start"] } } }
        : undefined,
    );
    renderReport();
    await userEvent.click(screen.getByRole("button", { name: "PDF report" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The report could not be requested: end: end is before start");
    expect(screen.getByRole("button", { name: "PDF report" })).toBeEnabled();
  });
});
