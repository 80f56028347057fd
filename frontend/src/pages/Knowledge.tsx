import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useRef, useState } from "react";
import { csrfToken, listOf, type Page, request } from "../api/client";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import { useOptionalApi } from "../api/hooks";
import { DataTable, inferColumns } from "../components/DataTable";
import { formatDateTime } from "../lib/format";
import { rowsOf } from "./Analytics";
import { ErrorMessage, NotAvailable, QueryState } from "../components/States";
import { SubNav } from "../components/Tabs";
import { Navigate, Route, Routes } from "react-router-dom";

type Json = Record<string, unknown>;
const s = (v: unknown) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

export default function Knowledge() {
  return (
    <section aria-labelledby="knowledge-title">
      <h1 id="knowledge-title">Knowledge</h1>
      <SubNav
        label="Knowledge sections"
        items={[
          ["/knowledge/sources", "Sources and upload"],
          ["/knowledge/documents", "Documents"],
          ["/knowledge/search", "Search playground"],
          ["/knowledge/coverage", "Coverage gaps"],
        ]}
      />
      <Routes>
        <Route index element={<Navigate to="sources" replace />} />
        <Route path="sources" element={<Sources />} />
        <Route path="documents" element={<Documents />} />
        <Route path="search" element={<SearchPlayground />} />
        <Route path="coverage" element={<Coverage />} />
      </Routes>
    </section>
  );
}

const BUSY = ["pending", "processing", "running", "queued"];

function Sources() {
  const sources = useOptionalApi<Page<Json> | Json[]>(endpoints.knowledgeSources);
  const documents = useOptionalApi<Page<Json> | Json[]>(`${endpoints.knowledgeDocuments}?page_size=200`, {
    // Poll while something is being ingested, so progress moves without a reload.
    refetchInterval: (query) =>
      listOf(query.state.data as Page<Json> | Json[] | undefined).some((row) => BUSY.includes(s(row.status))) ? 1500 : false,
  });
  const client = useQueryClient();
  const file = useRef<HTMLInputElement>(null);
  const [url, setUrl] = useState("");
  const [kind, setKind] = useState<"upload" | "url" | "qa_csv" | "sitemap">("upload");
  const [notice, setNotice] = useState("");
  const sourceOfKind = async (wanted: string, name: string): Promise<string> => {
    const existing = listOf(sources.data).find((row) => row.kind === wanted);
    if (existing) return s(existing.id);
    const created = await request<Json>(endpoints.knowledgeSources, { method: "POST", json: { name, kind: wanted } });
    return s(created.id);
  };
  const add = useMutation({
    mutationFn: async () => {
      if (kind === "url" || kind === "sitemap") {
        const source = await request<Json>(endpoints.knowledgeSources, { method: "POST", json: { kind, url, name: url.slice(0, 200) } });
        await request(`${endpoints.knowledgeSources}${s(source.id)}/sync/`, { method: "POST", json: {} });
        return `Fetching ${url}…`;
      }
      const chosen = file.current?.files?.[0];
      if (!chosen) throw new Error("Choose a file first.");
      const source = await sourceOfKind(kind, kind === "qa_csv" ? "Q&A pairs" : "Uploaded files");
      const form = new FormData();
      form.append("source", source);
      form.append("file", chosen);
      form.append("title", chosen.name.slice(0, 500));
      const response = await fetch(endpoints.knowledgeUpload, {
        method: "POST",
        body: form,
        headers: { "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) throw new ApiError(response.status, body);
      return `${chosen.name} uploaded; ingesting…`;
    },
    onSuccess: (message) => {
      setNotice(message);
      void client.invalidateQueries({ queryKey: ["optional"] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate();
  };
  return (
    <div>
      <QueryState query={sources} feature="The knowledge base">
        <form onSubmit={submit} className="stack card" aria-label="Add knowledge">
          <h2>Add knowledge</h2>
          <label>
            Kind
            <select value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
              <option value="upload">File (PDF, DOCX, HTML, Markdown, text)</option>
              <option value="qa_csv">Q&amp;A CSV / XLSX</option>
              <option value="url">Web pages (same-site crawl)</option>
              <option value="sitemap">Sitemap</option>
            </select>
          </label>
          {kind === "url" || kind === "sitemap" ? (
            <label>
              URL
              <input type="url" required value={url} onChange={(e) => setUrl(e.target.value)} />
            </label>
          ) : (
            <label>
              File
              <input ref={file} type="file" required />
            </label>
          )}
          <button type="submit" disabled={add.isPending}>
            {add.isPending ? "Uploading…" : "Add"}
          </button>
          <p role="status" className="muted">
            {notice}
          </p>
          {add.error ? <ErrorMessage error={add.error} /> : null}
        </form>
        <DataTable<Json>
          caption="Sources"
          rows={listOf(sources.data)}
          columns={[
            { key: "name", label: "Name" },
            { key: "kind", label: "Kind" },
            { key: "document_count", label: "Documents" },
            { key: "last_synced_at", label: "Last synced", render: (row) => formatDateTime(s(row.last_synced_at)) },
            { key: "sync_error", label: "Error" },
          ]}
        />
      </QueryState>
      <h2>Ingestion</h2>
      <QueryState query={documents} feature="Knowledge documents">
        <DocumentsTable rows={listOf(documents.data)} />
      </QueryState>
    </div>
  );
}

export function DocumentsTable({ rows }: { rows: Json[] }) {
  return (
    <DataTable<Json>
      caption="Documents"
      rows={rows}
      columns={[
        { key: "title", label: "Title" },
        { key: "source_name", label: "Source" },
        { key: "status", label: "Status", render: (row) => `${s(row.status)}${row.status_reason ? `: ${s(row.status_reason)}` : ""}` },
        {
          key: "progress",
          label: "Progress",
          render: (row) => {
            const value = typeof row.progress === "number" ? Math.round(row.progress <= 1 ? row.progress * 100 : row.progress) : 0;
            return (
              <progress max={100} value={row.status === "ready" ? 100 : value} aria-label={`${s(row.title)} ingestion`}>
                {value}%
              </progress>
            );
          },
        },
        { key: "chunk_count", label: "Chunks" },
        { key: "language", label: "Language" },
        { key: "version", label: "Version" },
      ]}
    />
  );
}

function Documents() {
  const documents = useOptionalApi<Page<Json> | Json[]>(`${endpoints.knowledgeDocuments}?page_size=500`);
  return (
    <QueryState query={documents} feature="Knowledge documents">
      <DocumentsTable rows={listOf(documents.data)} />
    </QueryState>
  );
}

function Coverage() {
  const report = useOptionalApi<Json>(endpoints.knowledgeCoverage);
  const rows = rowsOf(report.data);
  return (
    <QueryState query={report} feature="The coverage report">
      <p>
        <a href={`${endpoints.knowledgeCoverage}?format=csv`} download>
          Export CSV
        </a>
      </p>
      <DataTable<Json> caption="Unanswered or weakly answered questions" rows={rows} columns={inferColumns(rows)} empty="No coverage gaps recorded yet." />
    </QueryState>
  );
}

function SearchPlayground() {
  const [q, setQ] = useState("");
  const [submitted, setSubmitted] = useState("");
  const results = useOptionalApi<Page<Json> | Json[] | { results: Json[] }>(submitted ? endpoints.knowledgeSearch(submitted) : null);
  return (
    <div>
      <form
        role="search"
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setSubmitted(q);
        }}
      >
        <label htmlFor="kb-q">Question</label>
        <input id="kb-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} required />
        <button type="submit">Search</button>
      </form>
      {submitted && results.isError && results.error instanceof ApiError && results.error.notAvailable ? (
        <NotAvailable feature="Knowledge search" />
      ) : null}
      {results.isError && !(results.error instanceof ApiError && results.error.notAvailable) ? <ErrorMessage error={results.error} /> : null}
      <ol className="search-results">
        {listOf(results.data as Page<Json>).map((chunk, i) => (
          <li key={s(chunk.chunk_id ?? i)}>
            <strong>{s(chunk.document_title)}</strong>{" "}
            <span className="muted">
              score {Number(chunk.score ?? 0).toFixed(3)} (vector {Number(chunk.vector_score ?? 0).toFixed(3)}, text{" "}
              {Number(chunk.text_score ?? 0).toFixed(3)})
            </span>
            {Array.isArray(chunk.heading_path) && chunk.heading_path.length ? <p className="muted">{(chunk.heading_path as string[]).join(" › ")}</p> : null}
            <p>{s(chunk.text)}</p>
            {chunk.url ? (
              <a href={s(chunk.url)} target="_blank" rel="noreferrer">
                {s(chunk.source_name) || s(chunk.url)}
              </a>
            ) : (
              <span className="muted">{s(chunk.source_name)}</span>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}
