import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useRef, useState } from "react";
import { csrfToken, listOf, type Page, request } from "../api/client";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import { useOptionalApi } from "../api/hooks";
import { DataTable } from "../components/DataTable";
import { ResourceList } from "../components/ResourceList";
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
        <Route path="documents" element={<ResourceList path={endpoints.knowledgeDocuments} feature="Knowledge documents" caption="Documents" />} />
        <Route path="search" element={<SearchPlayground />} />
        <Route path="coverage" element={<ResourceList path={endpoints.knowledgeCoverage} feature="The coverage report" caption="Unanswered or weakly answered questions" />} />
      </Routes>
    </section>
  );
}

function progressOf(source: Json): number | null {
  const value = source.progress ?? source.ingestion_progress;
  return typeof value === "number" ? Math.round(value <= 1 ? value * 100 : value) : null;
}

function Sources() {
  const sources = useOptionalApi<Page<Json> | Json[]>(endpoints.knowledgeSources, {
    // Poll while something is ingesting, so progress moves without a reload.
    refetchInterval: (query) =>
      listOf(query.state.data as Page<Json> | Json[] | undefined).some((row) => ["pending", "running", "ingesting", "queued"].includes(s(row.status)))
        ? 2000
        : false,
  });
  const client = useQueryClient();
  const file = useRef<HTMLInputElement>(null);
  const [url, setUrl] = useState("");
  const [kind, setKind] = useState<"upload" | "url" | "qa_csv">("upload");
  const upload = useMutation({
    mutationFn: async () => {
      if (kind === "url") return request(endpoints.knowledgeSources, { method: "POST", json: { kind: "url", url, name: url } });
      const chosen = file.current?.files?.[0];
      if (!chosen) throw new Error("Choose a file first.");
      const form = new FormData();
      form.append("file", chosen);
      form.append("kind", kind);
      form.append("name", chosen.name);
      const response = await fetch(endpoints.knowledgeSources, {
        method: "POST",
        body: form,
        headers: { "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) throw new ApiError(response.status, body);
      return body;
    },
    onSuccess: () => void client.invalidateQueries({ queryKey: ["optional", endpoints.knowledgeSources] }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    upload.mutate();
  };
  return (
    <div>
      <QueryState query={sources} feature="The knowledge base">
        <DataTable<Json>
          caption="Sources"
          rows={listOf(sources.data)}
          columns={[
            { key: "name", label: "Name" },
            { key: "kind", label: "Kind" },
            { key: "status", label: "Status" },
            {
              key: "progress",
              label: "Ingestion",
              render: (row) => {
                const p = progressOf(row);
                return p === null ? s(row.document_count ?? "") : <progress max={100} value={p} aria-label={`${s(row.name)} ingestion`}>{p}%</progress>;
              },
            },
            { key: "error", label: "Error", render: (row) => s(row.error) },
          ]}
        />
        <form onSubmit={submit} className="stack card" aria-label="Add knowledge">
          <h2>Add knowledge</h2>
          <label>
            Kind
            <select value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
              <option value="upload">File (PDF, DOCX, HTML, Markdown, text)</option>
              <option value="qa_csv">Q&amp;A CSV / XLSX</option>
              <option value="url">Web page URL</option>
            </select>
          </label>
          {kind === "url" ? (
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
          <button type="submit" disabled={upload.isPending}>
            {upload.isPending ? "Uploading…" : "Add"}
          </button>
          {upload.error ? <ErrorMessage error={upload.error} /> : null}
        </form>
      </QueryState>
    </div>
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
