/**
 * Datasets: upload a dataset file (or a .zip of a dataset folder) to import it, follow the import's
 * progress (or cancel it), read its data-quality report, and train an intent or sentiment model from a
 * finished one. Both lists are paged by the server; "Load more" fetches the next page.
 */
import { type InfiniteData, type QueryClient, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, type Page, request, type Schemas, unwrap } from "../api/client";
import type { ChartOption } from "../components/Chart";
import { DataTable } from "../components/DataTable";
import { LazyChart } from "../components/LazyChart";
import { ErrorMessage, QueryState } from "../components/States";
import { downloadCsv } from "../lib/csv";
import { formatDateTime } from "../lib/format";

export type DatasetImport = Schemas["DatasetImport"];
export type TrainingJob = Schemas["TrainingJob"];
type Status = DatasetImport["status"];

export const importKeys = {
  formats: ["dataset-formats"] as const,
  imports: ["dataset-imports"] as const,
  importOne: (id: string) => ["dataset-imports", "one", id] as const,
  jobs: ["training-jobs"] as const,
  jobsOf: (importId: string) => ["training-jobs", importId] as const,
};

/** Poll every second while something is queued, running or being stopped; not at all otherwise. */
export const POLL_MS = 1000;
/** Rows per page of each list ("Load more" fetches the next page). */
export const PAGE_SIZE = 25;

export function isActive(status: Status | string | undefined): boolean {
  return status === "queued" || status === "running";
}

/** Cancelled, but the worker has not yet stopped and removed what it wrote. */
export function isStopping(row: { status: Status | string; finished_at?: string | null }): boolean {
  return row.status === "cancelled" && !row.finished_at;
}

export function anyActive(rows: { status: Status | string; finished_at?: string | null }[] | undefined): boolean {
  return Boolean(rows?.some((row) => isActive(row.status) || isStopping(row)));
}

/** The rows of every loaded page, newest first, each once (a new row shifts later pages by one). */
export function pagedRows<T extends { id: string }>(data: InfiniteData<Page<T>> | undefined): T[] {
  const seen = new Set<string>();
  const rows: T[] = [];
  for (const page of data?.pages ?? []) {
    for (const row of page.results) {
      if (!seen.has(row.id)) {
        seen.add(row.id);
        rows.push(row);
      }
    }
  }
  return rows;
}

/** Put `row` in the cached pages: replace it where it is, or add it on top of the first page. */
export function upsertPaged<T extends { id: string }>(data: InfiniteData<Page<T>> | undefined, row: T): InfiniteData<Page<T>> {
  const [first, ...rest] = data?.pages ?? [];
  if (!data || !first) {
    return { pages: [{ count: 1, next: null, previous: null, results: [row] }], pageParams: [1] };
  }
  if (data.pages.some((page) => page.results.some((r) => r.id === row.id))) {
    return { ...data, pages: data.pages.map((page) => ({ ...page, results: page.results.map((r) => (r.id === row.id ? row : r)) })) };
  }
  return { ...data, pages: [{ ...first, count: first.count + 1, results: [row, ...first.results] }, ...rest] };
}

function nextPage<T>(last: Page<T>, pages: Page<T>[]): number | undefined {
  return last.next ? pages.length + 1 : undefined;
}

/** The uploaded file's name (the server stores it under a per-import folder). */
export function fileName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

/** Seconds between two instants as "1 min 05 s" / "12 s". */
export function formatElapsed(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(total / 60);
  const rest = total % 60;
  return minutes ? `${minutes} min ${String(rest).padStart(2, "0")} s` : `${rest} s`;
}

/** How long a training job ran (or has been running, against `now`). */
export function jobElapsed(job: Pick<TrainingJob, "created_at" | "started_at" | "finished_at">, now: number): number {
  const start = Date.parse(job.started_at ?? job.created_at);
  const end = job.finished_at ? Date.parse(job.finished_at) : now;
  return Number.isFinite(start) && Number.isFinite(end) ? (end - start) / 1000 : 0;
}

/** A clock that ticks every second while `active`. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

export function useDatasetFormats() {
  return useQuery({
    queryKey: importKeys.formats,
    queryFn: async () => unwrap(await api.GET("/api/v1/intelligence/dataset-formats/")).formats,
    staleTime: 10 * 60_000,
  });
}

/** The imports, newest first, a page at a time (polled while one of the loaded ones is active). */
export function useDatasetImports() {
  return useInfiniteQuery({
    queryKey: importKeys.imports,
    queryFn: async ({ pageParam }): Promise<Page<DatasetImport>> =>
      unwrap(
        await api.GET("/api/v1/dataset-imports/", { params: { query: { page: pageParam, page_size: PAGE_SIZE } } }),
      ) as Page<DatasetImport>,
    initialPageParam: 1,
    getNextPageParam: nextPage,
    refetchInterval: (query) => (anyActive(pagedRows(query.state.data)) ? POLL_MS : false),
  });
}

/** One import by id: the one named in ?import= when it is not on the loaded pages. */
export function useDatasetImport(id: string, enabled: boolean) {
  return useQuery({
    queryKey: importKeys.importOne(id),
    queryFn: async () => request<DatasetImport>(`/api/v1/dataset-imports/${encodeURIComponent(id)}/`),
    enabled: enabled && Boolean(id),
    refetchInterval: (query) => (anyActive(query.state.data ? [query.state.data] : []) ? POLL_MS : false),
  });
}

/** The training jobs of one import, newest first, a page at a time (polled while one is active). */
export function useTrainingJobs(importId: string) {
  return useInfiniteQuery({
    queryKey: importKeys.jobsOf(importId),
    queryFn: async ({ pageParam }): Promise<Page<TrainingJob>> =>
      unwrap(
        await api.GET("/api/v1/training-jobs/", {
          params: { query: { dataset_import: importId, page: pageParam, page_size: PAGE_SIZE } },
        }),
      ) as Page<TrainingJob>,
    initialPageParam: 1,
    getNextPageParam: nextPage,
    enabled: Boolean(importId),
    refetchInterval: (query) => (anyActive(pagedRows(query.state.data)) ? POLL_MS : false),
  });
}

/** Cancel a queued or running import or training job; the server answers 409 with a reason once it has finished. */
export function useCancel<T extends { id: string }>(kind: "dataset-imports" | "training-jobs") {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request<T>(`/api/v1/${kind}/${encodeURIComponent(id)}/cancel/`, { method: "POST" }),
    onSuccess: (row) => {
      updateCached(client, kind, row);
      void client.invalidateQueries({ queryKey: [kind] });
    },
  });
}

function updateCached<T extends { id: string }>(client: QueryClient, kind: string, row: T) {
  for (const [key, data] of client.getQueriesData<InfiniteData<Page<T>> | T>({ queryKey: [kind] })) {
    if (!data) continue;
    if ("pages" in data) client.setQueryData(key, upsertPaged(data, row));
    else if (data.id === row.id) client.setQueryData(key, row);
  }
}

/** "Load more" under a paged list, with how many of how many are shown. */
export function LoadMore({
  shown,
  total,
  hasMore,
  loading,
  onMore,
  what,
}: {
  shown: number;
  total: number;
  hasMore: boolean;
  loading: boolean;
  onMore: () => void;
  what: string;
}) {
  if (!hasMore && shown >= total) return null;
  return (
    <div className="row" data-testid={`load-more-${what}`}>
      <span className="muted">
        Showing {shown} of {total} {what}
      </span>
      {hasMore ? (
        <button type="button" onClick={onMore} disabled={loading}>
          {loading ? "Loading…" : `Load more ${what}`}
        </button>
      ) : null}
    </div>
  );
}

export function StatusChip({ status }: { status: string }) {
  return <span className={`chip status-${status}`}>{status}</span>;
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const percent = Math.round(Math.min(1, Math.max(0, value)) * 100);
  return (
    <span className="progress-cell">
      <progress max={100} value={percent} aria-label={label} />
      <span>{percent} %</span>
    </span>
  );
}

/** The upload form: file, format (from the server's loaders), mask PII, optional limit. */
export function DatasetUploadForm({ onQueued }: { onQueued?: (record: DatasetImport) => void }) {
  const formats = useDatasetFormats();
  const client = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState("");
  const [maskPii, setMaskPii] = useState(false);
  const [limit, setLimit] = useState("");
  const [inputKey, setInputKey] = useState(0);
  const upload = useMutation({
    mutationFn: async () => {
      const body = new FormData();
      if (file) body.append("file", file);
      body.append("format", format);
      body.append("mask_pii", maskPii ? "true" : "false");
      if (limit.trim()) body.append("limit", limit.trim());
      return request<DatasetImport>("/api/v1/dataset-imports/", { method: "POST", body });
    },
    onSuccess: (record) => {
      client.setQueryData<InfiniteData<Page<DatasetImport>>>(importKeys.imports, (data) => upsertPaged(data, record));
      void client.invalidateQueries({ queryKey: importKeys.imports });
      setFile(null);
      setLimit("");
      setInputKey((key) => key + 1);
      onQueued?.(record);
    },
  });
  const selected = formats.data?.find((f) => f.name === format);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (file && format) upload.mutate();
  };
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="upload-title">
      <h2 id="upload-title">Import a dataset</h2>
      <label>
        Dataset file
        <input
          key={inputKey}
          type="file"
          accept=".csv,.json,.gz,.zip,.parquet,.txt,.tsv"
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
        />
      </label>
      <span className="muted">A single file, or a .zip of a dataset folder.</span>
      <label>
        Format
        <select value={format} onChange={(e) => setFormat(e.target.value)} disabled={!formats.data}>
          <option value="">{formats.isPending ? "Loading formats…" : "Choose a format"}</option>
          {formats.data?.map((f) => (
            <option key={f.name} value={f.name}>
              {f.name}
            </option>
          ))}
        </select>
      </label>
      {formats.error ? <ErrorMessage error={formats.error} /> : null}
      {selected ? <span className="muted" data-testid="format-description">{selected.description}</span> : null}
      <label className="check">
        <input type="checkbox" checked={maskPii} onChange={(e) => setMaskPii(e.target.checked)} />
        Mask personal data (e-mails, phone numbers, card numbers…) while importing
      </label>
      <label>
        Limit (optional: import at most this many conversations)
        <input type="number" min={1} step={1} value={limit} onChange={(e) => setLimit(e.target.value)} />
      </label>
      <div className="row">
        <button type="submit" disabled={!file || !format || upload.isPending}>
          {upload.isPending ? "Uploading…" : "Upload and import"}
        </button>
      </div>
      {upload.error ? <ErrorMessage error={upload.error} /> : null}
    </form>
  );
}

const CSV_COLUMNS = [
  "id",
  "file",
  "format",
  "status",
  "progress",
  "conversations_created",
  "conversations_skipped",
  "messages_created",
  "error",
  "created_by",
  "created_at",
  "finished_at",
];

export function importsCsvRows(rows: DatasetImport[]): (string | number | null)[][] {
  return rows.map((r) => [
    r.id,
    fileName(r.path),
    r.format,
    r.status,
    r.progress,
    r.conversations_created,
    r.conversations_skipped,
    r.messages_created,
    r.error,
    r.created_by,
    r.created_at,
    r.finished_at,
  ]);
}

/** The status chip, with "stopping…" while a cancelled job's worker cleans up. */
function StatusCell({ row }: { row: { status: string; finished_at?: string | null } }) {
  return (
    <>
      <StatusChip status={row.status} />
      {isStopping(row) ? <span className="muted"> stopping…</span> : null}
    </>
  );
}

export function ImportsTable({
  rows,
  selected,
  onSelect,
  onCancel,
  cancelling,
}: {
  rows: DatasetImport[];
  selected: string;
  onSelect: (id: string) => void;
  onCancel?: (id: string) => void;
  cancelling?: string;
}) {
  return (
    <>
      <div className="row">
        <button
          type="button"
          disabled={!rows.length}
          onClick={() => downloadCsv("parley-dataset-imports.csv", CSV_COLUMNS, importsCsvRows(rows))}
        >
          Export CSV
        </button>
        {anyActive(rows) ? (
          <span className="muted" role="status">
            Updating every second while an import runs…
          </span>
        ) : null}
      </div>
      <DataTable<DatasetImport>
        caption="Dataset imports"
        empty="No dataset imported yet: upload one above."
        rows={rows}
        columns={[
          {
            key: "file",
            label: "File",
            render: (r) => (
              <button type="button" className="link" aria-pressed={selected === r.id} onClick={() => onSelect(r.id)}>
                {fileName(r.path) || r.id.slice(0, 8)}
              </button>
            ),
          },
          { key: "format", label: "Format" },
          { key: "status", label: "Status", render: (r) => <StatusCell row={r} /> },
          {
            key: "progress",
            label: "Progress",
            render: (r) =>
              r.status === "failed" || r.status === "cancelled" ? (
                ""
              ) : (
                <span data-testid="import-progress">
                  <ProgressBar value={r.progress} label={`Import of ${fileName(r.path)}`} />
                  {r.progress_total ? (
                    <span className="muted">
                      {" "}
                      {r.progress_done}/{r.progress_total}
                    </span>
                  ) : null}
                </span>
              ),
          },
          { key: "conversations_created", label: "Conversations" },
          { key: "messages_created", label: "Messages" },
          { key: "conversations_skipped", label: "Skipped" },
          {
            key: "error",
            label: "Error",
            render: (r) =>
              !r.error ? "" : r.status === "cancelled" ? <span className="muted">{r.error}</span> : <span className="error-text">{r.error}</span>,
          },
          { key: "created_at", label: "Started", render: (r) => formatDateTime(r.created_at) },
          {
            key: "actions",
            label: "Actions",
            render: (r) =>
              onCancel && isActive(r.status) ? (
                <button
                  type="button"
                  onClick={() => onCancel(r.id)}
                  disabled={cancelling === r.id}
                  aria-label={`Cancel the import of ${fileName(r.path) || r.id.slice(0, 8)}`}
                >
                  {cancelling === r.id ? "Cancelling…" : "Cancel"}
                </button>
              ) : (
                ""
              ),
          },
        ]}
      />
    </>
  );
}

/** The shape of `DatasetImport.quality` (parley/intelligence/quality.py); every part optional. */
export interface QualityReportData {
  format?: string;
  rows_read?: number;
  records?: number;
  dialogues?: number;
  turns?: number;
  completeness?: { valid_rows?: number; share_valid?: number; share_labelled?: number };
  duplicates?: { exact?: number; near?: number; examples?: string[][] };
  lengths?: { empty?: number; overlong?: number; overlong_threshold?: number; mean_chars?: number; p95_chars?: number; max_chars?: number };
  labels?: { count?: number; balance?: Record<string, number>; imbalance_ratio?: number | null };
  label_noise_candidates?: {
    conflicting_labels?: { text: string; labels: string[] }[];
    neighbour_disagreement?: { text: string; label: string; neighbours_say: string }[];
  };
  language_mix?: { sampled?: number; counts?: Record<string, number> };
  schema_errors?: { count?: number; rows?: { row: number; error: string }[] };
}

export function qualityOf(value: unknown): QualityReportData | null {
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  const report = value as QualityReportData;
  return report.rows_read === undefined && report.records === undefined ? null : report;
}

const percent = (share: number | undefined) => (share === undefined ? "" : `${(share * 100).toFixed(1)} %`);
const num = (value: number | undefined | null) => (value === undefined || value === null ? "" : String(value));

/** Horizontal bars, most frequent label on top (at most `limit` labels). */
export function labelBalanceOption(balance: Record<string, number>, limit = 30): ChartOption {
  const entries = Object.entries(balance)
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit);
  return {
    tooltip: { trigger: "axis" },
    grid: { left: 150, right: 30, top: 10, bottom: 30 },
    xAxis: { type: "value", name: "examples" },
    yAxis: { type: "category", inverse: true, data: entries.map(([label]) => label), axisLabel: { width: 140, overflow: "truncate" } },
    series: [{ type: "bar", name: "examples", data: entries.map(([, count]) => count), itemStyle: { color: "#2f6fde" } }],
  };
}

export function QualityReport({ report }: { report: QualityReportData }) {
  const balance = report.labels?.balance ?? {};
  const balanceRows = Object.entries(balance)
    .sort((a, b) => b[1] - a[1])
    .map(([label, count]) => ({ id: label, label, count }));
  const labelledTotal = balanceRows.reduce((sum, row) => sum + row.count, 0);
  // Polling hands a new object every second; redraw the chart only when the counts change.
  const balanceKey = JSON.stringify(balance);
  const option = useMemo(() => labelBalanceOption(JSON.parse(balanceKey) as Record<string, number>), [balanceKey]);
  const languages = Object.entries(report.language_mix?.counts ?? {})
    .sort((a, b) => b[1] - a[1])
    .map(([language, count]) => ({ id: language, language, count }));
  const schemaRows = (report.schema_errors?.rows ?? []).map((r) => ({ ...r, id: `${r.row}-${r.error}` }));
  const conflicting = (report.label_noise_candidates?.conflicting_labels ?? []).map((c, i) => ({ ...c, id: String(i) }));
  const disagreeing = (report.label_noise_candidates?.neighbour_disagreement ?? []).map((c, i) => ({ ...c, id: String(i) }));
  const duplicateExamples = report.duplicates?.examples ?? [];
  return (
    <section aria-labelledby="quality-title" data-testid="quality-report">
      <h3 id="quality-title">Data quality</h3>
      <dl className="metrics">
        <div>
          <dt>Rows read</dt>
          <dd>{num(report.rows_read)}</dd>
        </div>
        <div>
          <dt>Valid rows</dt>
          <dd>
            {num(report.completeness?.valid_rows)} ({percent(report.completeness?.share_valid)})
          </dd>
        </div>
        <div>
          <dt>Texts</dt>
          <dd>{num(report.records)}</dd>
        </div>
        <div>
          <dt>Conversations</dt>
          <dd>{num(report.dialogues)}</dd>
        </div>
        <div>
          <dt>Turns</dt>
          <dd>{num(report.turns)}</dd>
        </div>
        <div>
          <dt>Labelled</dt>
          <dd>{percent(report.completeness?.share_labelled)}</dd>
        </div>
        <div>
          <dt>Exact duplicates</dt>
          <dd>{num(report.duplicates?.exact)}</dd>
        </div>
        <div>
          <dt>Near duplicates</dt>
          <dd>{num(report.duplicates?.near)}</dd>
        </div>
        <div>
          <dt>Schema errors</dt>
          <dd>{num(report.schema_errors?.count)}</dd>
        </div>
      </dl>
      <p className="muted">
        Text length: mean {num(report.lengths?.mean_chars)} characters, 95th percentile {num(report.lengths?.p95_chars)}, longest{" "}
        {num(report.lengths?.max_chars)}; {num(report.lengths?.empty)} empty, {num(report.lengths?.overlong)} over{" "}
        {num(report.lengths?.overlong_threshold)} characters.
      </p>

      <h4>Label balance</h4>
      {balanceRows.length ? (
        <>
          <p className="muted">
            {report.labels?.count ?? balanceRows.length} labels on {labelledTotal} texts
            {report.labels?.imbalance_ratio && report.labels.imbalance_ratio > 1
              ? `; the largest is ${report.labels.imbalance_ratio}× the smallest`
              : "; balanced"}
            .
          </p>
          <LazyChart option={option} label="Label balance bar chart" height={Math.max(140, 40 + Math.min(30, balanceRows.length) * 22)} />
          <details>
            <summary>Label counts as a table</summary>
            <DataTable
              caption="Examples per label"
              rows={balanceRows}
              columns={[
                { key: "label", label: "Label" },
                { key: "count", label: "Examples" },
                { key: "share", label: "Share", render: (r) => percent(labelledTotal ? r.count / labelledTotal : 0) },
              ]}
            />
          </details>
        </>
      ) : (
        <p className="muted">No labels in this dataset (it can be imported, but not trained on).</p>
      )}

      <h4>Languages</h4>
      <DataTable
        caption={`Language mix (a sample of ${num(report.language_mix?.sampled)} texts)`}
        rows={languages}
        empty="No language detected."
        columns={[
          { key: "language", label: "Language" },
          { key: "count", label: "Texts" },
        ]}
      />

      <h4>Schema errors</h4>
      <DataTable
        caption={`Rows that could not be read (${num(report.schema_errors?.count)} in all; the first ones listed)`}
        rows={schemaRows}
        empty="Every row was read."
        columns={[
          { key: "row", label: "Row" },
          { key: "error", label: "Problem" },
        ]}
      />

      {duplicateExamples.length ? (
        <details>
          <summary>Duplicate examples ({duplicateExamples.length})</summary>
          <ul>
            {duplicateExamples.map((group, i) => (
              <li key={i}>{group.join(" · ")}</li>
            ))}
          </ul>
        </details>
      ) : null}
      {conflicting.length || disagreeing.length ? (
        <>
          <h4>Possible label noise</h4>
          <DataTable
            caption="The same text with different labels"
            rows={conflicting}
            empty="No text carries conflicting labels."
            columns={[
              { key: "text", label: "Text" },
              { key: "labels", label: "Labels", render: (r) => r.labels.join(", ") },
            ]}
          />
          {disagreeing.length ? (
            <DataTable
              caption="Texts whose nearest neighbours all carry another label"
              rows={disagreeing}
              columns={[
                { key: "text", label: "Text" },
                { key: "label", label: "Label" },
                { key: "neighbours_say", label: "Neighbours say" },
              ]}
            />
          ) : null}
        </>
      ) : null}
    </section>
  );
}

function summaryMetrics(summary: unknown): [string, number][] {
  if (!summary || typeof summary !== "object") return [];
  return Object.entries(summary as Record<string, unknown>).filter(
    (entry): entry is [string, number] => typeof entry[1] === "number" && entry[0] !== "labels" && entry[0] !== "training_seconds",
  );
}

/** One training job: status, elapsed time (ticking while it runs), then its metrics and the new version. */
export function TrainingJobCard({ job }: { job: TrainingJob }) {
  const running = isActive(job.status);
  const now = useNow(running);
  const cancel = useCancel<TrainingJob>("training-jobs");
  const summary = (job.summary ?? {}) as Record<string, unknown>;
  return (
    <article className="card" aria-label={`Training job ${job.kind}`} data-testid="training-job">
      <div className="row">
        <strong>
          {job.kind} model ({job.algorithm})
        </strong>
        <StatusCell row={job} />
        <span data-testid="training-elapsed">
          {job.status === "queued" ? "waiting for a worker" : running ? "running" : job.status === "cancelled" ? "stopped after" : "took"}{" "}
          {formatElapsed(jobElapsed(job, now))}
        </span>
        {running ? (
          <button type="button" onClick={() => cancel.mutate(job.id)} disabled={cancel.isPending}>
            {cancel.isPending ? "Cancelling…" : "Cancel training"}
          </button>
        ) : null}
      </div>
      {cancel.error ? <ErrorMessage error={cancel.error} /> : null}
      {running && job.error ? <p className="muted">{job.error}</p> : null}
      {job.status === "failed" ? <p className="error-text">{job.error || "Training failed."}</p> : null}
      {job.status === "cancelled" ? <p className="muted">{job.error || "Cancelled."} No model version was registered.</p> : null}
      {job.status === "done" ? (
        <>
          <dl className="metrics">
            {summaryMetrics(summary).map(([key, value]) => (
              <div key={key}>
                <dt>{key.replace(/_/g, " ")}</dt>
                <dd>{Number.isInteger(value) ? value : value.toFixed(3)}</dd>
              </div>
            ))}
            {typeof summary.labels === "number" ? (
              <div>
                <dt>labels</dt>
                <dd>{summary.labels}</dd>
              </div>
            ) : null}
          </dl>
          {job.model_version ? (
            <p>
              <Link to={`/models?version=${job.model_version}`}>Open the new model version</Link> to compare it with others and
              promote it.
            </p>
          ) : null}
        </>
      ) : null}
    </article>
  );
}

/** Train an intent or sentiment model on a finished import, and the jobs already run on it. */
export function TrainPanel({ record }: { record: DatasetImport }) {
  const client = useQueryClient();
  const jobs = useTrainingJobs(record.id);
  const mine = pagedRows(jobs.data);
  const [kind, setKind] = useState<"intent" | "sentiment">("intent");
  const [limit, setLimit] = useState("");
  const train = useMutation({
    mutationFn: () =>
      request<TrainingJob>("/api/v1/training-jobs/", {
        method: "POST",
        json: { kind, dataset_import: record.id, ...(limit.trim() ? { limit: Number(limit) } : {}) },
      }),
    onSuccess: (job) => {
      client.setQueryData<InfiniteData<Page<TrainingJob>>>(importKeys.jobsOf(record.id), (data) => upsertPaged(data, job));
      void client.invalidateQueries({ queryKey: importKeys.jobsOf(record.id) });
    },
  });
  return (
    <section aria-labelledby="train-title">
      <h3 id="train-title">Train a model</h3>
      {record.status !== "done" ? (
        <p className="muted">A model can be trained once the import has finished.</p>
      ) : (
        <form
          className="row"
          onSubmit={(event) => {
            event.preventDefault();
            train.mutate();
          }}
        >
          <label htmlFor="train-kind">Model</label>
          <select id="train-kind" value={kind} onChange={(e) => setKind(e.target.value as "intent" | "sentiment")}>
            <option value="intent">intent</option>
            <option value="sentiment">sentiment</option>
          </select>
          <label htmlFor="train-limit">Use at most (texts, optional)</label>
          <input id="train-limit" type="number" min={50} step={1} value={limit} onChange={(e) => setLimit(e.target.value)} />
          <button type="submit" disabled={train.isPending}>
            {train.isPending ? "Starting…" : "Train"}
          </button>
        </form>
      )}
      {train.error ? <ErrorMessage error={train.error} /> : null}
      {jobs.error ? <ErrorMessage error={jobs.error} /> : null}
      {mine.map((job) => (
        <TrainingJobCard key={job.id} job={job} />
      ))}
      <LoadMore
        shown={mine.length}
        total={jobs.data?.pages[0]?.count ?? 0}
        hasMore={Boolean(jobs.hasNextPage)}
        loading={jobs.isFetchingNextPage}
        onMore={() => void jobs.fetchNextPage()}
        what="training jobs"
      />
    </section>
  );
}

export default function Datasets() {
  const imports = useDatasetImports();
  const cancel = useCancel<DatasetImport>("dataset-imports");
  const [params, setParams] = useSearchParams();
  const selected = params.get("import") ?? "";
  const select = (id: string) => setParams(id ? { import: id } : {});
  const rows = pagedRows(imports.data);
  const listed = rows.find((row) => row.id === selected);
  // an import named in the address but not on the loaded pages (an old one) is fetched on its own
  const single = useDatasetImport(selected, imports.isSuccess && !listed);
  const record = listed ?? (single.data?.id === selected ? single.data : undefined);
  const report = record ? qualityOf(record.quality) : null;
  const total = imports.data?.pages[0]?.count ?? 0;
  return (
    <section aria-labelledby="datasets-title">
      <h1 id="datasets-title">Datasets</h1>
      <p className="muted">
        Import labelled or conversation datasets, check their quality, and train intent or sentiment models on them. New models
        appear on the <Link to="/models">Models</Link> page, where they can be compared and promoted.
      </p>
      <DatasetUploadForm onQueued={(created) => select(created.id)} />
      <h2>Imports</h2>
      <QueryState query={imports} feature="Dataset import">
        <ImportsTable
          rows={rows}
          selected={selected}
          onSelect={select}
          onCancel={(id) => cancel.mutate(id)}
          cancelling={cancel.isPending ? cancel.variables : undefined}
        />
        <LoadMore
          shown={rows.length}
          total={total}
          hasMore={Boolean(imports.hasNextPage)}
          loading={imports.isFetchingNextPage}
          onMore={() => void imports.fetchNextPage()}
          what="imports"
        />
      </QueryState>
      {cancel.error ? <ErrorMessage error={cancel.error} /> : null}
      {single.error ? <ErrorMessage error={single.error} /> : null}
      {record ? (
        <section className="card" aria-labelledby="import-title" data-testid="import-detail">
          <h2 id="import-title">
            {fileName(record.path)} <span className="muted">({record.format})</span> <StatusCell row={record} />
          </h2>
          {isActive(record.status) ? (
            <div className="row">
              <ProgressBar value={record.progress} label={`Import of ${fileName(record.path)}`} />
              <button type="button" onClick={() => cancel.mutate(record.id)} disabled={cancel.isPending}>
                {cancel.isPending && cancel.variables === record.id ? "Cancelling…" : "Cancel import"}
              </button>
            </div>
          ) : null}
          {isActive(record.status) && record.error ? <p className="muted">{record.error}</p> : null}
          {record.status === "failed" ? <div className="error">The import failed: {record.error || "no reason given"}</div> : null}
          {record.status === "cancelled" ? (
            <p className="muted" data-testid="import-cancelled">
              {isStopping(record)
                ? "Cancelled: the worker is stopping and removing what it had imported…"
                : `${record.error || "Cancelled"}; nothing of it was kept.`}
            </p>
          ) : null}
          {record.status === "done" ? (
            <p>
              Created {record.conversations_created} conversations with {record.messages_created} messages
              {record.conversations_skipped ? `; skipped ${record.conversations_skipped} already imported` : ""}.
            </p>
          ) : null}
          {report ? <QualityReport report={report} /> : record.status === "done" ? <p className="muted">No quality report was stored.</p> : null}
          <TrainPanel record={record} />
        </section>
      ) : null}
    </section>
  );
}
