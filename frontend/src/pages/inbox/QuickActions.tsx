import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ApiError, type Conversation, request, type Ticket } from "../../api/client";
import { endpoints } from "../../api/endpoints";
import { ErrorMessage } from "../../components/States";

export function QuickActions({ conversation }: { conversation: Conversation }) {
  const client = useQueryClient();
  const [mode, setMode] = useState<"" | "ticket" | "followup">("");
  const [subject, setSubject] = useState("");
  const [text, setText] = useState("");
  const [due, setDue] = useState("");
  const [notice, setNotice] = useState("");
  const customerId = conversation.customer?.id ?? "";

  const ticket = useMutation({
    mutationFn: () =>
      request<Ticket>("/api/v1/tickets/", {
        method: "POST",
        json: { customer: customerId, conversation: conversation.id, subject, description: text },
      }),
    onSuccess: () => {
      setNotice("Ticket created.");
      setMode("");
      setSubject("");
      setText("");
      void client.invalidateQueries({ queryKey: ["tickets", customerId] });
    },
  });
  const followup = useMutation({
    mutationFn: () =>
      request(endpoints.followUps, {
        method: "POST",
        json: { conversation: conversation.id, due_at: new Date(due).toISOString(), text },
      }),
    onSuccess: () => {
      setNotice("Follow-up scheduled.");
      setMode("");
      setText("");
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (mode === "ticket") ticket.mutate();
    if (mode === "followup") followup.mutate();
  };
  const followupMissing = followup.error instanceof ApiError && followup.error.notAvailable;
  return (
    <section>
      <h3>Quick actions</h3>
      <div className="actions">
        <button type="button" onClick={() => setMode(mode === "ticket" ? "" : "ticket")} aria-expanded={mode === "ticket"}>
          Create ticket
        </button>
        <button type="button" onClick={() => setMode(mode === "followup" ? "" : "followup")} aria-expanded={mode === "followup"}>
          Schedule follow-up
        </button>
      </div>
      {mode ? (
        <form onSubmit={submit} className="stack">
          {mode === "ticket" ? (
            <label>
              Subject
              <input required maxLength={200} value={subject} onChange={(e) => setSubject(e.target.value)} />
            </label>
          ) : (
            <label>
              Due
              <input type="datetime-local" required value={due} onChange={(e) => setDue(e.target.value)} />
            </label>
          )}
          <label>
            {mode === "ticket" ? "Description" : "Message to send"}
            <textarea rows={2} required={mode === "followup"} value={text} onChange={(e) => setText(e.target.value)} />
          </label>
          <button type="submit">{mode === "ticket" ? "Create ticket" : "Schedule"}</button>
        </form>
      ) : null}
      <p role="status" className="muted">
        {notice}
      </p>
      {ticket.error ? <ErrorMessage error={ticket.error} /> : null}
      {followupMissing ? (
        <p className="notice">Scheduling follow-ups is not available yet on this server.</p>
      ) : followup.error ? (
        <ErrorMessage error={followup.error} />
      ) : null}
    </section>
  );
}
