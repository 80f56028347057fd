import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, Route, Routes, useParams } from "react-router-dom";
import { listOf, type Page, request } from "../api/client";
import { endpoints } from "../api/endpoints";
import { useOptionalApi } from "../api/hooks";
import { DataTable } from "../components/DataTable";
import { ErrorMessage, QueryState } from "../components/States";
import { diffLines } from "../lib/diff";
import { formatDateTime } from "../lib/format";

type Json = Record<string, unknown>;
const s = (v: unknown) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

export default function Assistants() {
  return (
    <section aria-labelledby="assistants-title">
      <h1 id="assistants-title">Assistants</h1>
      <Routes>
        <Route index element={<AssistantList />} />
        <Route path=":assistantId" element={<AssistantDetail />} />
      </Routes>
    </section>
  );
}

function AssistantList() {
  const query = useOptionalApi<Page<Json> | Json[]>(endpoints.assistants);
  const client = useQueryClient();
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: () => request(endpoints.assistants, { method: "POST", json: { name } }),
    onSuccess: () => {
      setName("");
      void client.invalidateQueries({ queryKey: ["optional", endpoints.assistants] });
    },
  });
  return (
    <QueryState query={query} feature="Assistant profiles">
      <DataTable<Json>
        caption="Assistants"
        rows={listOf(query.data)}
        columns={[
          { key: "name", label: "Name", render: (a) => <Link to={`/assistants/${s(a.id)}`}>{s(a.name)}</Link> },
          { key: "is_default", label: "Default", render: (a) => (a.is_default ? "yes" : "") },
          { key: "updated_at", label: "Updated", render: (a) => formatDateTime(s(a.updated_at)) },
        ]}
      />
      <form
        className="row card"
        aria-label="New assistant"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <label>
          Name
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit">Create assistant</button>
      </form>
      {create.error ? <ErrorMessage error={create.error} /> : null}
    </QueryState>
  );
}

function promptOf(version: Json): string {
  return s(version.instructions ?? version.prompt ?? version.text ?? version.system_prompt);
}

function AssistantDetail() {
  const { assistantId = "" } = useParams();
  const path = `${endpoints.assistants}${assistantId}/`;
  const assistant = useOptionalApi<Json>(path);
  const versions = useOptionalApi<Page<Json> | Json[]>(`${path}versions/`);
  const rows = listOf(versions.data);
  const [left, setLeft] = useState(1);
  const [right, setRight] = useState(0);
  const [draft, setDraft] = useState<string | null>(null);
  const [testText, setTestText] = useState("");
  const client = useQueryClient();
  const save = useMutation({
    mutationFn: () => request(`${path}versions/`, { method: "POST", json: { instructions: draft } }),
    onSuccess: () => {
      setDraft(null);
      void client.invalidateQueries({ queryKey: ["optional", `${path}versions/`] });
    },
  });
  const rollback = useMutation({
    mutationFn: (versionId: string) => request(`${path}rollback/`, { method: "POST", json: { version: versionId } }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["optional", `${path}versions/`] }),
  });
  const test = useMutation({
    mutationFn: () => request<Json>(`${path}test/`, { method: "POST", json: { message: testText, draft: draft ?? undefined } }),
  });
  const current = rows[0] ? promptOf(rows[0]) : s(assistant.data?.instructions);
  return (
    <QueryState query={assistant} feature="Assistant profiles">
      <p>
        <Link to="/assistants">← Assistants</Link>
      </p>
      <h2>{s(assistant.data?.name)}</h2>
      <details open>
        <summary>Settings</summary>
        <dl className="facts">
          {Object.entries(assistant.data ?? {})
            .filter(([key]) => !["id", "name", "instructions"].includes(key))
            .map(([key, value]) => (
              <div key={key}>
                <dt>{key.replace(/_/g, " ")}</dt>
                <dd>
                  <code>{s(value)}</code>
                </dd>
              </div>
            ))}
        </dl>
      </details>
      <section>
        <h3>Prompt</h3>
        <label htmlFor="prompt-editor" className="sr-only">
          Instructions
        </label>
        <textarea id="prompt-editor" rows={10} value={draft ?? current} onChange={(e) => setDraft(e.target.value)} />
        <button type="button" disabled={draft === null || save.isPending} onClick={() => save.mutate()}>
          Save as new version
        </button>
        {save.error ? <ErrorMessage error={save.error} /> : null}
      </section>
      <section>
        <h3>Versions</h3>
        <QueryState query={versions} feature="Prompt versions">
          <ol>
            {rows.map((v) => (
              <li key={s(v.id)}>
                v{s(v.number ?? v.version)} · {formatDateTime(s(v.created_at))} · {s(v.created_by)}{" "}
                <button type="button" onClick={() => rollback.mutate(s(v.id))}>
                  Roll back to this
                </button>
              </li>
            ))}
          </ol>
          {rows.length > 1 ? (
            <div>
              <label>
                Compare
                <select value={left} onChange={(e) => setLeft(Number(e.target.value))}>
                  {rows.map((v, i) => (
                    <option key={s(v.id)} value={i}>
                      v{s(v.number ?? v.version ?? rows.length - i)}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                with
                <select value={right} onChange={(e) => setRight(Number(e.target.value))}>
                  {rows.map((v, i) => (
                    <option key={s(v.id)} value={i}>
                      v{s(v.number ?? v.version ?? rows.length - i)}
                    </option>
                  ))}
                </select>
              </label>
              <pre className="diff" aria-label="Differences between the versions">
                {diffLines(promptOf(rows[left] ?? {}), promptOf(rows[right] ?? {})).map((line, i) => (
                  <div key={i} className={`diff-${line.kind}`}>
                    {line.kind === "added" ? "+ " : line.kind === "removed" ? "- " : "  "}
                    {line.text}
                  </div>
                ))}
              </pre>
            </div>
          ) : null}
          {rollback.error ? <ErrorMessage error={rollback.error} /> : null}
        </QueryState>
      </section>
      <section>
        <h3>Test chat{draft !== null ? " (against the unsaved draft)" : ""}</h3>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            test.mutate();
          }}
        >
          <label htmlFor="test-message">Message</label>
          <input id="test-message" value={testText} onChange={(e) => setTestText(e.target.value)} required />
          <button type="submit">Send</button>
        </form>
        {test.data ? <p className="message from-assistant">{s(test.data.reply ?? test.data.text ?? test.data)}</p> : null}
        {test.error ? <ErrorMessage error={test.error} /> : null}
      </section>
    </QueryState>
  );
}
