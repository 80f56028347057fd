import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, Route, Routes, useNavigate, useParams } from "react-router-dom";
import { listOf, type Page, request } from "../api/client";
import { endpoints } from "../api/endpoints";
import { useOptionalApi } from "../api/hooks";
import { DataTable } from "../components/DataTable";
import { ErrorMessage, QueryState } from "../components/States";
import { diffLines } from "../lib/diff";
import { TraceView } from "./inbox/AssistantPanel";
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
  return s(version.instructions);
}

function listText(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(", ") : "";
}

function splitList(value: string): string[] {
  return value
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
}

function SettingsForm({ assistant, path }: { assistant: Json; path: string }) {
  const client = useQueryClient();
  const sources = useOptionalApi<Page<Json> | Json[]>(endpoints.knowledgeSources);
  const [form, setForm] = useState({
    enabled: Boolean(assistant.enabled),
    allowed_tools: listText(assistant.allowed_tools),
    languages: listText(assistant.languages),
    knowledge_source_ids: (Array.isArray(assistant.knowledge_source_ids) ? assistant.knowledge_source_ids : []).map(String),
    llm: JSON.stringify(assistant.llm ?? {}, null, 2),
    handover_rules: JSON.stringify(assistant.handover_rules ?? {}, null, 2),
  });
  const [error, setError] = useState("");
  const save = useMutation({
    mutationFn: () => {
      let llm: unknown;
      let rules: unknown;
      try {
        llm = JSON.parse(form.llm);
        rules = JSON.parse(form.handover_rules);
      } catch {
        throw new Error("LLM routing and handover rules must be valid JSON.");
      }
      return request<Json>(path, {
        method: "PATCH",
        json: {
          enabled: form.enabled,
          allowed_tools: splitList(form.allowed_tools),
          languages: splitList(form.languages),
          knowledge_source_ids: form.knowledge_source_ids,
          llm,
          handover_rules: rules,
        },
      });
    },
    onSuccess: (updated) => {
      client.setQueryData(["optional", path], updated);
      setError("");
    },
    onError: (exc) => setError(exc.message),
  });
  return (
    <form
      className="stack card"
      aria-label="Assistant settings"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <h3>Settings</h3>
      <label className="check">
        <input type="checkbox" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} />
        Enabled
      </label>
      <label>
        Allowed tools (comma-separated)
        <input value={form.allowed_tools} onChange={(e) => setForm({ ...form, allowed_tools: e.target.value })} />
      </label>
      <label>
        Languages (ISO codes)
        <input value={form.languages} onChange={(e) => setForm({ ...form, languages: e.target.value })} />
      </label>
      <fieldset>
        <legend>Linked knowledge</legend>
        {listOf(sources.data).map((source) => (
          <label key={s(source.id)} className="check">
            <input
              type="checkbox"
              checked={form.knowledge_source_ids.includes(s(source.id))}
              onChange={(e) =>
                setForm({
                  ...form,
                  knowledge_source_ids: e.target.checked
                    ? [...form.knowledge_source_ids, s(source.id)]
                    : form.knowledge_source_ids.filter((id) => id !== s(source.id)),
                })
              }
            />
            {s(source.name)}
          </label>
        ))}
        {listOf(sources.data).length === 0 ? <p className="muted">No knowledge sources (all knowledge is used).</p> : null}
      </fieldset>
      <label>
        LLM routing (JSON: backends, temperature, max_tokens, timeout_s)
        <textarea rows={6} value={form.llm} onChange={(e) => setForm({ ...form, llm: e.target.value })} />
      </label>
      <label>
        Handover rules (JSON)
        <textarea rows={5} value={form.handover_rules} onChange={(e) => setForm({ ...form, handover_rules: e.target.value })} />
      </label>
      <button type="submit" disabled={save.isPending}>
        Save settings
      </button>
      {error ? <p className="error" role="alert">{error}</p> : null}
    </form>
  );
}

function AssistantDetail() {
  const { assistantId = "" } = useParams();
  const path = `${endpoints.assistants}${assistantId}/`;
  const assistant = useOptionalApi<Json>(path);
  const versions = useOptionalApi<Page<Json> | Json[]>(`${path}versions/?page_size=100`);
  const rows = [...listOf(versions.data)].sort((a, b) => Number(b.number) - Number(a.number));
  const [left, setLeft] = useState(1);
  const [right, setRight] = useState(0);
  const [draft, setDraft] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const [testText, setTestText] = useState("");
  const [testVersion, setTestVersion] = useState("");
  const client = useQueryClient();
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ["optional", `${path}versions/?page_size=100`] });
    void client.invalidateQueries({ queryKey: ["optional", path] });
  };
  const save = useMutation({
    mutationFn: (publish: boolean) => request<Json>(`${path}versions/`, { method: "POST", json: { instructions: draft, note, publish } }),
    onSuccess: (version) => {
      setDraft(null);
      setNote("");
      setTestVersion(s(version.number));
      refresh();
    },
  });
  const publish = useMutation({
    mutationFn: (number: string) => request(`${path}versions/${number}/publish/`, { method: "POST", json: {} }),
    onSuccess: refresh,
  });
  const rollback = useMutation({
    mutationFn: (number: string) => request(`${path}rollback/`, { method: "POST", json: { version: Number(number) } }),
    onSuccess: refresh,
  });
  const test = useMutation({
    mutationFn: () =>
      request<Json>(`${path}test-chat/`, {
        method: "POST",
        json: testVersion ? { message: testText, version: Number(testVersion) } : { message: testText },
      }),
  });
  const navigate = useNavigate();
  const remove = useMutation({
    mutationFn: () => request(path, { method: "DELETE" }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["optional", endpoints.assistants] });
      navigate("/assistants");
    },
  });
  const active = s(assistant.data?.active_version);
  const current = s(assistant.data?.instructions);
  return (
    <QueryState query={assistant} feature="Assistant profiles">
      <p>
        <Link to="/assistants">← Assistants</Link>
      </p>
      <div className="row">
        <h2>{s(assistant.data?.name)}</h2>
        <button
          type="button"
          className="link"
          onClick={() => window.confirm(`Delete the assistant ${s(assistant.data?.name)}?`) && remove.mutate()}
        >
          Delete assistant
        </button>
      </div>
      {remove.error ? <ErrorMessage error={remove.error} /> : null}
      <div className="grid-2">
        <section>
          <h3>Prompt (active version v{active})</h3>
          <label htmlFor="prompt-editor" className="sr-only">
            Instructions
          </label>
          <textarea id="prompt-editor" rows={12} value={draft ?? current} onChange={(e) => setDraft(e.target.value)} />
          <label>
            Note
            <input value={note} onChange={(e) => setNote(e.target.value)} />
          </label>
          <div className="actions">
            <button type="button" disabled={draft === null || save.isPending} onClick={() => save.mutate(false)}>
              Save as draft
            </button>
            <button type="button" disabled={draft === null || save.isPending} onClick={() => save.mutate(true)}>
              Save and publish
            </button>
          </div>
          {save.error ? <ErrorMessage error={save.error} /> : null}
        </section>
        {assistant.data ? <SettingsForm key={s(assistant.data.updated_at)} assistant={assistant.data} path={path} /> : null}
      </div>
      <section>
        <h3>Versions</h3>
        <QueryState query={versions} feature="Prompt versions">
          <ol reversed>
            {rows.map((v) => (
              <li key={s(v.number)}>
                v{s(v.number)} {v.is_draft ? "(draft)" : ""} {s(v.number) === active ? "(active)" : ""} · {formatDateTime(s(v.created_at))} ·{" "}
                {s(v.created_by)} {v.note ? `· ${s(v.note)}` : ""}{" "}
                {v.is_draft ? (
                  <button type="button" onClick={() => publish.mutate(s(v.number))}>
                    Publish
                  </button>
                ) : s(v.number) !== active ? (
                  <button type="button" onClick={() => rollback.mutate(s(v.number))}>
                    Roll back to this
                  </button>
                ) : null}
              </li>
            ))}
          </ol>
          {rows.length > 1 ? (
            <div>
              <label>
                Compare
                <select value={left} onChange={(e) => setLeft(Number(e.target.value))}>
                  {rows.map((v, i) => (
                    <option key={s(v.number)} value={i}>
                      v{s(v.number)}
                    </option>
                  ))}
                </select>
              </label>{" "}
              <label>
                with
                <select value={right} onChange={(e) => setRight(Number(e.target.value))}>
                  {rows.map((v, i) => (
                    <option key={s(v.number)} value={i}>
                      v{s(v.number)}
                    </option>
                  ))}
                </select>
              </label>
              <pre className="diff" aria-label="Differences between the versions" tabIndex={0}>
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
          {publish.error ? <ErrorMessage error={publish.error} /> : null}
        </QueryState>
      </section>
      <section>
        <h3>Test chat</h3>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            test.mutate();
          }}
        >
          <label>
            Version
            <select value={testVersion} onChange={(e) => setTestVersion(e.target.value)}>
              <option value="">Active</option>
              {rows.map((v) => (
                <option key={s(v.number)} value={s(v.number)}>
                  v{s(v.number)} {v.is_draft ? "(draft)" : ""}
                </option>
              ))}
            </select>
          </label>
          <label htmlFor="test-message">Message</label>
          <input id="test-message" value={testText} onChange={(e) => setTestText(e.target.value)} required />
          <button type="submit" disabled={test.isPending}>
            Send
          </button>
        </form>
        {test.data ? (
          <div className="card" data-testid="test-chat-reply">
            <p className="message from-assistant">{s(test.data.reply)}</p>
            <p className="muted">
              {s(test.data.responder)} · {s(test.data.outcome)} {test.data.handover_reason ? `· handover: ${s(test.data.handover_reason)}` : ""}
            </p>
            <TraceView trace={test.data} />
          </div>
        ) : null}
        {test.error ? <ErrorMessage error={test.error} /> : null}
      </section>
    </QueryState>
  );
}
