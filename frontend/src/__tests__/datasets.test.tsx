import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RequireAuth } from "../auth";
import Datasets, {
  anyActive,
  type DatasetImport,
  fileName,
  formatElapsed,
  importsCsvRows,
  jobElapsed,
  isStopping,
  labelBalanceOption,
  pagedRows,
  QualityReport,
  qualityOf,
  type TrainingJob,
  upsertPaged,
} from "../pages/Datasets";
import Models from "../pages/Models";

type Answer = { status: number; body: unknown };
type Call = { path: string; method: string; body: unknown };

/**
 * A fetch double for both the typed client (Request objects, absolute URLs) and `request()` (path +
 * init). Records every call with its path (origin stripped), method and body (JSON or FormData).
 */
function mockFetch(handler: (path: string, method: string, body: unknown) => Answer | undefined) {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const isRequest = typeof input === "object" && "method" in input;
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const path = url.replace(/^https?:\/\/[^/]+/, "");
      const method = (isRequest ? (input as Request).method : (init.method ?? "GET")).toUpperCase();
      const body = typeof init.body === "string" ? JSON.parse(init.body) : init.body instanceof FormData ? init.body : undefined;
      calls.push({ path, method, body });
      const answer = handler(path, method, body) ?? { status: 404, body: { detail: "Not found." } };
      return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "Content-Type": "application/json" } });
    }),
  );
  return calls;
}

const newClient = () => new QueryClient({ defaultOptions: { queries: { retry: false } } });
const page = <T,>(results: T[]) => ({ count: results.length, next: null, previous: null, results });

function renderAt(path: string, element: ReactNode, route = "/datasets") {
  return render(
    <QueryClientProvider client={newClient()}>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path={route} element={element} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

const FORMATS = {
  formats: [
    { name: "banking77", description: "BANKING77 intents (CSV text,category or JSON)" },
    { name: "synthetic", description: "Support conversations CSV: conversation_id, turn, speaker, text [, intent, sentiment, ...]" },
  ],
};

const QUALITY = {
  format: "synthetic",
  rows_read: 8,
  records: 6,
  dialogues: 2,
  turns: 6,
  completeness: { valid_rows: 6, share_valid: 0.75, share_labelled: 0.5 },
  duplicates: { exact: 1, near: 0, examples: [["where is my order", "Where is my order?"]] },
  lengths: { empty: 0, overlong: 0, overlong_threshold: 2000, mean_chars: 21.5, p95_chars: 30, max_chars: 31 },
  labels: { count: 2, balance: { order_status: 2, refund: 1 }, imbalance_ratio: 2 },
  label_noise_candidates: { conflicting_labels: [{ text: "cancel it", labels: ["cancel", "refund"] }] },
  language_mix: { sampled: 6, counts: { en: 5, es: 1 } },
  schema_errors: { count: 2, rows: [{ row: 7, error: "unknown speaker 'robot'" }, { row: 8, error: "turn must be an integer, got 'x'" }] },
};

function importRecord(overrides: Partial<DatasetImport> = {}): DatasetImport {
  return {
    id: "11111111-1111-1111-1111-111111111111",
    format: "synthetic",
    path: "/data/imports/abc/support.csv",
    status: "done",
    options: {},
    progress_done: 2,
    progress_total: 2,
    progress: 1,
    error: "",
    created_by: "user:demo",
    conversations_created: 2,
    conversations_skipped: 0,
    messages_created: 6,
    quality: QUALITY,
    created_at: "2026-01-01T10:00:00Z",
    finished_at: "2026-01-01T10:00:03Z",
    ...overrides,
  } as DatasetImport;
}

function job(overrides: Partial<TrainingJob> = {}): TrainingJob {
  return {
    id: "22222222-2222-2222-2222-222222222222",
    kind: "intent",
    algorithm: "fast",
    dataset_import: importRecord().id,
    status: "running",
    options: {},
    error: "",
    created_by: "user:demo",
    summary: {},
    model_version: null,
    created_at: new Date(Date.now() - 5000).toISOString(),
    started_at: new Date(Date.now() - 4000).toISOString(),
    finished_at: null,
    ...overrides,
  } as TrainingJob;
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("dataset helpers", () => {
  it("formats elapsed time, file names, activity and CSV rows", () => {
    expect(formatElapsed(4.4)).toBe("4 s");
    expect(formatElapsed(65)).toBe("1 min 05 s");
    expect(formatElapsed(-3)).toBe("0 s");
    expect(fileName("/srv/imports/4f/support.csv")).toBe("support.csv");
    expect(anyActive([{ status: "done" }, { status: "running" }])).toBe(true);
    expect(anyActive([{ status: "done" }, { status: "failed" }])).toBe(false);
    const finished = { created_at: "2026-01-01T10:00:00Z", started_at: "2026-01-01T10:00:02Z", finished_at: "2026-01-01T10:00:14Z" };
    expect(jobElapsed(finished, Date.parse("2030-01-01T00:00:00Z"))).toBe(12);
    expect(jobElapsed({ ...finished, started_at: null, finished_at: null }, Date.parse("2026-01-01T10:01:00Z"))).toBe(60);
    expect(importsCsvRows([importRecord({ error: "=bad" })])[0]).toEqual([
      importRecord().id,
      "support.csv",
      "synthetic",
      "done",
      1,
      2,
      0,
      6,
      "=bad",
      "user:demo",
      "2026-01-01T10:00:00Z",
      "2026-01-01T10:00:03Z",
    ]);
  });

  it("recognises a quality report and charts the label balance, largest first", () => {
    expect(qualityOf({})).toBeNull();
    expect(qualityOf(null)).toBeNull();
    expect(qualityOf(QUALITY)?.rows_read).toBe(8);
    const option = labelBalanceOption({ small: 1, big: 9, mid: 4 }, 2) as {
      yAxis: { data: string[] };
      series: { data: number[] }[];
    };
    expect(option.yAxis.data).toEqual(["big", "mid"]);
    expect(option.series[0]?.data).toEqual([9, 4]);
  });
});

describe("paged lists and cancelled jobs", () => {
  it("merges loaded pages without repeats, puts new rows on top and knows a stopping job", () => {
    const a = importRecord({ id: "a" });
    const b = importRecord({ id: "b" });
    const c = importRecord({ id: "c" });
    const data = {
      pages: [
        { count: 3, next: "/api/v1/dataset-imports/?page=2", previous: null, results: [a, b] },
        { count: 3, next: null, previous: "x", results: [b, c] },
      ],
      pageParams: [1, 2],
    };
    expect(pagedRows(data).map((r) => r.id)).toEqual(["a", "b", "c"]);
    const added = upsertPaged(data, importRecord({ id: "d" }));
    expect(pagedRows(added).map((r) => r.id)).toEqual(["d", "a", "b", "c"]);
    expect(added.pages[0]?.count).toBe(4);
    const replaced = upsertPaged(data, importRecord({ id: "c", status: "cancelled" }));
    expect(pagedRows(replaced).find((r) => r.id === "c")?.status).toBe("cancelled");
    expect(upsertPaged(undefined, a).pages[0]?.results).toEqual([a]);
    expect(isStopping({ status: "cancelled", finished_at: null })).toBe(true);
    expect(isStopping({ status: "cancelled", finished_at: "2026-01-01T10:00:00Z" })).toBe(false);
    expect(anyActive([{ status: "cancelled", finished_at: null }])).toBe(true);
    expect(anyActive([{ status: "cancelled", finished_at: "2026-01-01T10:00:00Z" }])).toBe(false);
  });
});

describe("QualityReport", () => {
  it("shows completeness, duplicates, label balance, languages and schema errors by row", () => {
    render(<QualityReport report={QUALITY} />);
    const report = screen.getByTestId("quality-report");
    expect(within(report).getByText("Rows read").nextSibling).toHaveTextContent("8");
    expect(within(report).getByText("Valid rows").nextSibling).toHaveTextContent("6 (75.0 %)");
    expect(within(report).getByText("Labelled").nextSibling).toHaveTextContent("50.0 %");
    expect(within(report).getByText("Exact duplicates").nextSibling).toHaveTextContent("1");
    expect(report).toHaveTextContent("2 labels on 3 texts; the largest is 2× the smallest.");
    const labels = within(report).getByRole("table", { name: "Examples per label" });
    expect(within(labels).getAllByRole("row").map((r) => r.textContent)).toEqual([
      "LabelExamplesShare",
      "order_status266.7 %",
      "refund133.3 %",
    ]);
    const errors = within(report).getByRole("table", { name: /Rows that could not be read/ });
    expect(errors).toHaveTextContent("7unknown speaker 'robot'");
    expect(errors).toHaveTextContent("8turn must be an integer, got 'x'");
    expect(within(report).getByRole("table", { name: /Language mix/ })).toHaveTextContent("en5");
    expect(within(report).getByRole("table", { name: "The same text with different labels" })).toHaveTextContent("cancel itcancel, refund");
  });

  it("says when a dataset has no labels or no schema errors", () => {
    render(<QualityReport report={{ ...QUALITY, labels: { count: 0, balance: {}, imbalance_ratio: null }, schema_errors: { count: 0, rows: [] } }} />);
    expect(screen.getByText(/No labels in this dataset/)).toBeInTheDocument();
    expect(screen.getByText("Every row was read.")).toBeInTheDocument();
  });

  it("calls an even label split balanced", () => {
    render(<QualityReport report={{ ...QUALITY, labels: { count: 2, balance: { a: 2, b: 2 }, imbalance_ratio: 1 } }} />);
    expect(screen.getByTestId("quality-report")).toHaveTextContent("2 labels on 4 texts; balanced.");
  });
});

describe("Datasets page", () => {
  it("lists the server's formats and uploads the file with format, mask PII and limit", async () => {
    const queued = importRecord({ status: "queued", progress: 0, progress_done: 0, progress_total: 0, quality: {}, finished_at: null });
    let imports: DatasetImport[] = [];
    const calls = mockFetch((path, method) => {
      if (path === "/api/v1/intelligence/dataset-formats/") return { status: 200, body: FORMATS };
      if (path.startsWith("/api/v1/dataset-imports/") && method === "GET") return { status: 200, body: page(imports) };
      if (path === "/api/v1/dataset-imports/" && method === "POST") {
        imports = [{ ...queued, status: "done", progress: 1, progress_done: 2, progress_total: 2, quality: QUALITY }];
        return { status: 202, body: queued };
      }
      if (path.startsWith("/api/v1/training-jobs/")) return { status: 200, body: page([]) };
      return undefined;
    });
    const user = userEvent.setup();
    renderAt("/datasets", <Datasets />);

    expect(await screen.findByText("No dataset imported yet: upload one above.")).toBeInTheDocument();
    const submit = screen.getByRole("button", { name: "Upload and import" });
    expect(submit).toBeDisabled();
    const select = screen.getByLabelText("Format");
    await waitFor(() => expect(within(select).getAllByRole("option").map((o) => o.textContent)).toEqual(["Choose a format", "banking77", "synthetic"]));
    await user.selectOptions(select, "synthetic");
    expect(screen.getByTestId("format-description")).toHaveTextContent("conversation_id, turn, speaker, text");
    const file = new File(["conversation_id,turn,speaker,text\nc1,1,customer,hi\n"], "support.csv", { type: "text/csv" });
    await user.upload(screen.getByLabelText("Dataset file"), file);
    await user.click(screen.getByLabelText(/Mask personal data/));
    await user.type(screen.getByLabelText(/^Limit/), "25");
    await user.click(submit);

    const post = await waitFor(() => {
      const found = calls.find((c) => c.method === "POST");
      expect(found).toBeDefined();
      return found as Call;
    });
    expect(post.path).toBe("/api/v1/dataset-imports/");
    const form = post.body as FormData;
    expect((form.get("file") as File).name).toBe("support.csv");
    expect([form.get("format"), form.get("mask_pii"), form.get("limit")]).toEqual(["synthetic", "true", "25"]);
    // The new import is selected: its quality report shows once the refreshed list says it is done.
    const detail = await screen.findByTestId("import-detail");
    await within(detail).findByTestId("quality-report");
    expect(within(detail).getByText("Rows read").nextSibling).toHaveTextContent("8");
    expect(screen.getByRole("table", { name: "Dataset imports" })).toHaveTextContent("support.csv");
  });

  it("shows a refused upload's reason", async () => {
    mockFetch((path, method) => {
      if (path === "/api/v1/intelligence/dataset-formats/") return { status: 200, body: FORMATS };
      if (path === "/api/v1/dataset-imports/" && method === "POST")
        return { status: 400, body: { detail: "format must be one of banking77, synthetic" } };
      if (method === "GET") return { status: 200, body: page([]) };
      return undefined;
    });
    const user = userEvent.setup();
    renderAt("/datasets", <Datasets />);
    await waitFor(() => expect(screen.getAllByRole("option")).toHaveLength(3));
    await user.selectOptions(screen.getByLabelText("Format"), "banking77");
    await user.upload(screen.getByLabelText("Dataset file"), new File(["x"], "a.csv"));
    await user.click(screen.getByRole("button", { name: "Upload and import" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("format must be one of banking77, synthetic");
  });

  it("polls every second while an import runs, shows its progress bar, then stops polling", async () => {
    const answers = [
      importRecord({ status: "running", progress: 0.5, progress_done: 1, progress_total: 2, quality: {}, finished_at: null }),
      importRecord(),
    ];
    let served = 0;
    const calls = mockFetch((path, method) => {
      if (path === "/api/v1/intelligence/dataset-formats/") return { status: 200, body: FORMATS };
      if (path.startsWith("/api/v1/dataset-imports/") && method === "GET") {
        const record = answers[Math.min(served, answers.length - 1)];
        served += 1;
        return { status: 200, body: page([record]) };
      }
      if (path.startsWith("/api/v1/training-jobs/")) return { status: 200, body: page([]) };
      return undefined;
    });
    renderAt("/datasets", <Datasets />);
    const bar = await screen.findByRole("progressbar", { name: "Import of support.csv" });
    expect(bar).toHaveAttribute("value", "50");
    expect(screen.getByRole("table", { name: "Dataset imports" })).toHaveTextContent("running");
    expect(screen.getByText(/Updating every second/)).toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole("table", { name: "Dataset imports" })).toHaveTextContent("done"), { timeout: 3000 });
    expect(screen.getByRole("progressbar", { name: "Import of support.csv" })).toHaveAttribute("value", "100");
    const polled = calls.filter((c) => c.path.startsWith("/api/v1/dataset-imports/")).length;
    expect(polled).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(calls.filter((c) => c.path.startsWith("/api/v1/dataset-imports/")).length).toBe(polled);
    expect(screen.queryByText(/Updating every second/)).toBeNull();
  });

  it("shows a failed import's error in the table and the detail", async () => {
    const failed = importRecord({ status: "failed", error: "not valid JSON: Expecting property name", quality: {}, progress: 0 });
    mockFetch((path, method) => {
      if (path === "/api/v1/intelligence/dataset-formats/") return { status: 200, body: FORMATS };
      if (method === "GET") return { status: 200, body: page(path.startsWith("/api/v1/dataset-imports/") ? [failed] : []) };
      return undefined;
    });
    renderAt(`/datasets?import=${failed.id}`, <Datasets />);
    const detail = await screen.findByTestId("import-detail");
    expect(detail).toHaveTextContent("The import failed: not valid JSON: Expecting property name");
    expect(within(detail).queryByRole("button", { name: "Train" })).toBeNull();
    expect(screen.getByRole("table", { name: "Dataset imports" })).toHaveTextContent(/failed.*not valid JSON: Expecting property name/);
  });

  it("trains a model from a finished import: elapsed time while it runs, then metrics and a link to the version", async () => {
    const record = importRecord({ format: "banking77", path: "/x/intents.csv" });
    const done = job({
      status: "done",
      finished_at: new Date().toISOString(),
      summary: { kind: "intent", labels: 3, training_seconds: 1.2, accuracy: 0.9, macro_f1: 0.8756 },
      model_version: "33333333-3333-3333-3333-333333333333",
    });
    let jobs: TrainingJob[] = [];
    let jobPolls = 0;
    const calls = mockFetch((path, method) => {
      if (path === "/api/v1/intelligence/dataset-formats/") return { status: 200, body: FORMATS };
      if (path.startsWith("/api/v1/dataset-imports/")) return { status: 200, body: page([record]) };
      if (path.startsWith("/api/v1/training-jobs/") && method === "GET") {
        jobPolls += 1;
        return { status: 200, body: page(jobs.length && jobPolls > 2 ? [done] : jobs) };
      }
      if (path === "/api/v1/training-jobs/" && method === "POST") {
        jobs = [job()];
        jobPolls = 0;
        return { status: 202, body: jobs[0] };
      }
      return undefined;
    });
    const user = userEvent.setup();
    renderAt(`/datasets?import=${record.id}`, <Datasets />);
    await user.click(await screen.findByRole("button", { name: "Train" }));

    expect(calls.find((c) => c.method === "POST")).toEqual({
      path: "/api/v1/training-jobs/",
      method: "POST",
      body: { kind: "intent", dataset_import: record.id },
    });
    const card = await screen.findByTestId("training-job");
    expect(within(card).getByTestId("training-elapsed")).toHaveTextContent(/running [45] s/);
    await waitFor(() => expect(within(screen.getByTestId("training-job")).getByText("done")).toBeInTheDocument(), { timeout: 5000 });
    const finished = screen.getByTestId("training-job");
    expect(within(finished).getByText("macro f1").nextSibling).toHaveTextContent("0.876");
    expect(within(finished).getByText("accuracy").nextSibling).toHaveTextContent("0.900");
    expect(within(finished).getByText("labels").nextSibling).toHaveTextContent("3");
    expect(within(finished).getByTestId("training-elapsed")).toHaveTextContent(/took \d+ s/);
    expect(within(finished).getByRole("link", { name: "Open the new model version" })).toHaveAttribute(
      "href",
      "/models?version=33333333-3333-3333-3333-333333333333",
    );
  });

  it("sends the optional training limit and shows a refusal", async () => {
    const record = importRecord({ format: "banking77" });
    const calls = mockFetch((path, method) => {
      if (path === "/api/v1/intelligence/dataset-formats/") return { status: 200, body: FORMATS };
      if (path.startsWith("/api/v1/dataset-imports/")) return { status: 200, body: page([record]) };
      if (path === "/api/v1/training-jobs/" && method === "POST")
        return { status: 400, body: { detail: "the dataset has no labelled texts" } };
      if (method === "GET") return { status: 200, body: page([]) };
      return undefined;
    });
    const user = userEvent.setup();
    renderAt(`/datasets?import=${record.id}`, <Datasets />);
    await user.selectOptions(await screen.findByLabelText(/^Model/), "sentiment");
    await user.type(screen.getByLabelText(/Use at most/), "500");
    await user.click(screen.getByRole("button", { name: "Train" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("the dataset has no labelled texts");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ kind: "sentiment", dataset_import: record.id, limit: 500 });
  });
});

describe("Datasets page: paging and cancelling", () => {
  it("loads more imports on demand, a page at a time", async () => {
    const rows = [1, 2, 3].map((n) => importRecord({ id: `0000000${n}-0000-0000-0000-000000000000`, path: `/x/file${n}.csv` }));
    const calls = mockFetch((path, method) => {
      if (path === "/api/v1/intelligence/dataset-formats/") return { status: 200, body: FORMATS };
      if (path.startsWith("/api/v1/dataset-imports/") && method === "GET") {
        const second = path.includes("page=2");
        return {
          status: 200,
          body: { count: 3, next: second ? null : "/api/v1/dataset-imports/?page=2", previous: null, results: second ? rows.slice(2) : rows.slice(0, 2) },
        };
      }
      return undefined;
    });
    const user = userEvent.setup();
    renderAt("/datasets", <Datasets />);
    const table = await screen.findByRole("table", { name: "Dataset imports" });
    expect(table).toHaveTextContent("file2.csv");
    expect(table).not.toHaveTextContent("file3.csv");
    expect(screen.getByTestId("load-more-imports")).toHaveTextContent("Showing 2 of 3 imports");
    await user.click(screen.getByRole("button", { name: "Load more imports" }));
    await waitFor(() => expect(screen.getByRole("table", { name: "Dataset imports" })).toHaveTextContent("file3.csv"));
    expect(screen.queryByRole("button", { name: "Load more imports" })).toBeNull();
    const pages = calls.filter((c) => c.path.startsWith("/api/v1/dataset-imports/")).map((c) => new URL(c.path, "http://x").searchParams.get("page"));
    expect(pages).toEqual(["1", "2"]);
  });

  it("cancels a running import from the table and shows it stopping until the worker has cleaned up", async () => {
    const running = importRecord({ status: "running", progress: 0.5, progress_done: 1, progress_total: 2, quality: {}, finished_at: null });
    let current = running;
    const calls = mockFetch((path, method) => {
      if (path === "/api/v1/intelligence/dataset-formats/") return { status: 200, body: FORMATS };
      if (path === `/api/v1/dataset-imports/${running.id}/cancel/` && method === "POST") {
        current = { ...running, status: "cancelled", error: "Cancelled by user:ann" };
        return { status: 200, body: current };
      }
      if (path.startsWith("/api/v1/dataset-imports/") && method === "GET") return { status: 200, body: page([current]) };
      if (path.startsWith("/api/v1/training-jobs/")) return { status: 200, body: page([]) };
      return undefined;
    });
    const user = userEvent.setup();
    renderAt(`/datasets?import=${running.id}`, <Datasets />);
    await user.click(await screen.findByRole("button", { name: "Cancel the import of support.csv" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.path.endsWith("/cancel/"))).toBe(true));
    const table = screen.getByRole("table", { name: "Dataset imports" });
    await waitFor(() => expect(table).toHaveTextContent("cancelled stopping…"));
    expect(table).toHaveTextContent("Cancelled by user:ann");
    expect(screen.getByTestId("import-cancelled")).toHaveTextContent("the worker is stopping");
    expect(screen.queryByRole("button", { name: /Cancel the import/ })).toBeNull();
    // the worker has cleaned up: the next poll says so and the page stops polling
    current = { ...current, finished_at: "2026-01-01T10:00:09Z" };
    await waitFor(() => expect(screen.getByTestId("import-cancelled")).toHaveTextContent("Cancelled by user:ann; nothing of it was kept."), {
      timeout: 3000,
    });
    expect(screen.queryByText(/stopping…/)).toBeNull();
  });

  it("says why a running import is taking longer: its last attempt failed and it is being retried", async () => {
    const retrying = importRecord({
      status: "running",
      progress: 0.5,
      quality: {},
      finished_at: null,
      error: "Attempt 1 failed (OperationalError: server closed the connection); retrying…",
    });
    mockFetch((path, method) => {
      if (path === "/api/v1/intelligence/dataset-formats/") return { status: 200, body: FORMATS };
      if (method === "GET") return { status: 200, body: page(path.startsWith("/api/v1/dataset-imports/") ? [retrying] : []) };
      return undefined;
    });
    renderAt(`/datasets?import=${retrying.id}`, <Datasets />);
    const detail = await screen.findByTestId("import-detail");
    expect(detail).toHaveTextContent("Attempt 1 failed (OperationalError: server closed the connection); retrying…");
    expect(detail).not.toHaveTextContent("The import failed");
    expect(within(detail).getByRole("button", { name: "Cancel import" })).toBeEnabled();
  });

  it("shows the server's reason when the import finished before the cancel arrived", async () => {
    const running = importRecord({ status: "running", progress: 0.5, progress_done: 1, progress_total: 2, quality: {}, finished_at: null });
    mockFetch((path, method) => {
      if (path === "/api/v1/intelligence/dataset-formats/") return { status: 200, body: FORMATS };
      if (path.endsWith("/cancel/") && method === "POST")
        return { status: 409, body: { detail: "the import is already done; only a queued or running import can be cancelled" } };
      if (method === "GET") return { status: 200, body: page(path.startsWith("/api/v1/dataset-imports/") ? [running] : []) };
      return undefined;
    });
    const user = userEvent.setup();
    renderAt(`/datasets?import=${running.id}`, <Datasets />);
    await user.click(await screen.findByRole("button", { name: "Cancel import" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("the import is already done");
  });

  it("cancels a running training job and shows the jobs of an import that is not on the loaded page", async () => {
    const old = importRecord({ id: "99999999-9999-9999-9999-999999999999", path: "/x/old.csv", format: "banking77" });
    let current = job({ dataset_import: old.id });
    const calls = mockFetch((path, method) => {
      if (path === "/api/v1/intelligence/dataset-formats/") return { status: 200, body: FORMATS };
      if (path === `/api/v1/dataset-imports/${old.id}/`) return { status: 200, body: old };
      if (path.startsWith("/api/v1/dataset-imports/")) return { status: 200, body: page([importRecord()]) };
      if (path === `/api/v1/training-jobs/${current.id}/cancel/` && method === "POST") {
        current = { ...current, status: "cancelled", error: "Cancelled by user:ann", finished_at: new Date().toISOString() };
        return { status: 200, body: current };
      }
      if (path.startsWith("/api/v1/training-jobs/")) return { status: 200, body: page([current]) };
      return undefined;
    });
    const user = userEvent.setup();
    renderAt(`/datasets?import=${old.id}`, <Datasets />);
    const detail = await screen.findByTestId("import-detail");
    expect(detail).toHaveTextContent("old.csv");
    const card = await within(detail).findByTestId("training-job");
    const jobsCall = calls.find((c) => c.path.startsWith("/api/v1/training-jobs/"));
    expect(new URL(jobsCall?.path ?? "", "http://x").searchParams.get("dataset_import")).toBe(old.id);
    await user.click(within(card).getByRole("button", { name: "Cancel training" }));
    await waitFor(() => expect(screen.getByTestId("training-job")).toHaveTextContent("Cancelled by user:ann No model version was registered."));
    expect(within(screen.getByTestId("training-job")).queryByRole("button", { name: "Cancel training" })).toBeNull();
    expect(calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual([`/api/v1/training-jobs/${current.id}/cancel/`]);
  });
});

describe("Models page", () => {
  it("opens the evaluation report of the version named in ?version=", async () => {
    const version = {
      id: "33333333-3333-3333-3333-333333333333",
      kind: "intent",
      name: "intent-fast-tenant",
      algorithm: "fast",
      dataset_format: "banking77",
      data_fingerprint: "abcdef0123456789",
      metrics: { accuracy: 0.9 },
      params: {},
      labels: ["a", "b"],
      training_seconds: 1.2,
      promoted: false,
      created_at: "2026-01-01T10:00:00Z",
    };
    const me = { id: "u1", email: "a@parley.local", name: "Ann", role: "analyst", tenant: { name: "Demo" }, tenants: [] };
    mockFetch((path) =>
      path.startsWith("/api/v1/models/")
        ? { status: 200, body: page([version]) }
        : path === "/api/v1/auth/me/"
          ? { status: 200, body: me }
          : undefined,
    );
    renderAt(
      `/models?version=${version.id}`,
      <RequireAuth>
        <Models />
      </RequireAuth>,
      "/models",
    );
    expect(await screen.findByRole("heading", { name: "Evaluation report: intent intent-fast-tenant" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Datasets" })).toHaveAttribute("href", "/datasets");
  });
});
