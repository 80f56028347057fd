import { useMutation, useQueryClient } from "@tanstack/react-query";
import { listOf, type Page, request } from "../../api/client";
import { endpoints } from "../../api/endpoints";
import { useOptionalApi } from "../../api/hooks";
import { ErrorMessage, QueryState } from "../../components/States";
import { formatDateTime } from "../../lib/format";

type Json = Record<string, unknown>;

function str(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function arr(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

/** One turn of the assistant: what it retrieved, which tools it called, how long each step took. */
export function TraceView({ trace }: { trace: Json }) {
  const passages = arr(trace.retrieved ?? trace.retrieved_chunks ?? trace.passages ?? trace.knowledge);
  const tools = arr(trace.tool_calls ?? trace.planned_tool_calls ?? trace.tools);
  const timings = (trace.timings_ms ?? trace.timings ?? {}) as Json;
  const llmCalls = arr(trace.llm_calls);
  return (
    <details className="trace" data-testid="trace">
      <summary>
        {str(trace.mode ?? "reply")} · {str(trace.responder ?? "turn")} · {str(trace.outcome ?? trace.status ?? "")}
        {trace.handover_reason ? ` (handover: ${str(trace.handover_reason)})` : ""}{" "}
        {trace.latency_ms !== undefined ? `· ${str(trace.latency_ms)} ms` : ""}{" "}
        <span className="muted">{formatDateTime(str(trace.created_at))}</span>
      </summary>
      {passages.length ? (
        <section>
          <h4>Retrieved passages</h4>
          <ol>
            {passages.map((p, i) => (
              <li key={i}>
                <strong>{str(p.document_title ?? p.title)}</strong> <span className="muted">score {str(p.score)}</span>
                <p>{str(p.text).slice(0, 300)}</p>
              </li>
            ))}
          </ol>
        </section>
      ) : null}
      {tools.length ? (
        <section>
          <h4>Tool calls</h4>
          <ul>
            {tools.map((t, i) => (
              <li key={i}>
                <code>{str(t.name ?? t.tool)}</code>({str(t.arguments ?? t.args)}) → {str(t.status)} {str(t.result ?? t.data)}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {llmCalls.length ? (
        <section>
          <h4>LLM calls</h4>
          <ul>
            {llmCalls.map((c, i) => (
              <li key={i}>
                {str(c.backend)} {str(c.model)} · {str(c.latency_ms)} ms · {str(c.prompt_tokens)}+{str(c.completion_tokens)} tokens {str(c.error ?? "")}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {Object.keys(timings).length ? (
        <section>
          <h4>Timings</h4>
          <ul>
            {Object.entries(timings).map(([step, ms]) => (
              <li key={step}>
                {step}: {str(ms)} ms
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {arr(trace.errors).length || trace.error ? <p className="error">{str(trace.errors ?? trace.error)}</p> : null}
    </details>
  );
}

export function AssistantPanel({ conversationId, onUseSuggestion }: { conversationId: string; onUseSuggestion: (text: string) => void }) {
  const traces = useOptionalApi<Page<Json> | Json[]>(endpoints.traces(conversationId));
  const suggestions = useOptionalApi<Page<Json> | Json[]>(endpoints.suggestions(conversationId));
  const pending = useOptionalApi<Page<Json> | Json[]>(endpoints.pendingActions(conversationId));
  const client = useQueryClient();
  const decide = useMutation({
    mutationFn: ({ id, decision }: { id: string; decision: "approve" | "reject" }) =>
      request(endpoints.pendingActionDecision(id, decision), { method: "POST", json: {} }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["optional", endpoints.pendingActions(conversationId)] }),
  });
  const pendingRows = listOf(pending.data);
  const suggestionRows = listOf(suggestions.data);
  const markSuggestion = useMutation({
    mutationFn: ({ id, status }: { id: string; status: "used" | "dismissed" }) =>
      request(endpoints.suggestionStatus(id), { method: "POST", json: { status } }),
    onSettled: () => void client.invalidateQueries({ queryKey: ["optional", endpoints.suggestions(conversationId)] }),
  });
  return (
    <aside className="assistant-panel" aria-label="Assistant">
      <details>
        <summary>Pending confirmations and approvals ({pendingRows.length})</summary>
        <QueryState query={pending} feature="Pending actions">
          {pendingRows.length === 0 ? <p className="muted">Nothing waits for approval.</p> : null}
          <ul>
            {pendingRows.map((row) => (
              <li key={str(row.id)}>
                <strong>{str(row.tool ?? row.tool_name ?? row.name)}</strong> {str(row.arguments ?? row.summary)} · {str(row.status)}
                <button type="button" onClick={() => decide.mutate({ id: str(row.id), decision: "approve" })}>
                  Approve
                </button>
                <button type="button" onClick={() => decide.mutate({ id: str(row.id), decision: "reject" })}>
                  Reject
                </button>
              </li>
            ))}
          </ul>
          {decide.error ? <ErrorMessage error={decide.error} /> : null}
        </QueryState>
      </details>
      <details open={suggestionRows.length > 0}>
        <summary>Suggested replies ({suggestionRows.length})</summary>
        <QueryState query={suggestions} feature="Suggested replies">
          {suggestionRows.length === 0 ? <p className="muted">No suggestion pending.</p> : null}
          <ul>
            {suggestionRows.map((s) => (
              <li key={str(s.id)} data-testid="suggestion">
                <p>{str(s.text)}</p>
                {arr(s.citations).length ? (
                  <p className="muted">Sources: {arr(s.citations).map((c) => str(c.title ?? c.document_title ?? c.url)).join(", ")}</p>
                ) : null}
                <button
                  type="button"
                  onClick={() => {
                    onUseSuggestion(str(s.text));
                    markSuggestion.mutate({ id: str(s.id), status: "used" });
                  }}
                >
                  Use
                </button>{" "}
                <button type="button" className="link" onClick={() => markSuggestion.mutate({ id: str(s.id), status: "dismissed" })}>
                  Dismiss
                </button>
              </li>
            ))}
          </ul>
        </QueryState>
      </details>
      <details>
        <summary>Assistant turn traces</summary>
        <QueryState query={traces} feature="Turn traces">
          {listOf(traces.data).length === 0 ? <p className="muted">No assistant turns yet.</p> : null}
          {listOf(traces.data).map((trace, i) => (
            <TraceView key={str(trace.id ?? i)} trace={trace} />
          ))}
        </QueryState>
      </details>
    </aside>
  );
}
