import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { ApiError, type Customer, listOf, type Message, type Page, request, type Schemas } from "../api/client";
import { endpoints } from "../api/endpoints";
import { useOptionalApi } from "../api/hooks";
import { ErrorMessage, Loading, NotAvailable, QueryState } from "../components/States";
import { formatDateTime, humanize } from "../lib/format";
import { useCustomer, useCustomerConversations, useCustomerTickets } from "./inbox/CustomerPanel";

export default function CustomerDetail() {
  const { customerId = "" } = useParams();
  const customer = useCustomer(customerId);
  const conversations = useCustomerConversations(customerId);
  const tickets = useCustomerTickets(customerId);
  const recent = (conversations.data?.results ?? []).slice(0, 10);
  const messageQueries = useQueries({
    queries: recent.map((c) => ({
      queryKey: ["messages", c.id],
      queryFn: () => request<Page<Message>>(`/api/v1/conversations/${c.id}/messages/?page_size=500`),
    })),
  });
  const timeline = recent
    .flatMap((c, index) => (messageQueries[index]?.data?.results ?? []).map((m) => ({ m, c })))
    .sort((a, b) => b.m.created_at.localeCompare(a.m.created_at))
    .slice(0, 100);

  if (customer.isPending) return <Loading />;
  if (customer.isError) return <ErrorMessage error={customer.error} />;
  const data = customer.data;
  return (
    <section aria-labelledby="customer-title" className="customer-360">
      <p>
        <Link to="/customers">← Customers</Link>
      </p>
      <h1 id="customer-title">{data.name || "(no name)"}</h1>
      {data.merged_into ? (
        <p className="notice" role="status">
          This customer was merged into <Link to={`/customers/${data.merged_into}`}>another customer</Link>.
        </p>
      ) : null}
      <div className="grid-2">
        <ProfileForm customer={data} />
        <section>
          <h2>Identities across channels</h2>
          <ul data-testid="identities">
            {data.identities.map((identity) => (
              <li key={identity.id}>
                {humanize(identity.channel_type)}: {identity.display_name || identity.external_id}{" "}
                <span className="muted">last seen {formatDateTime(identity.last_seen_at)}</span>
              </li>
            ))}
          </ul>
          <h2>Tickets</h2>
          <ul>
            {(tickets.data?.results ?? []).map((t) => (
              <li key={t.id}>
                {t.subject} · {humanize(t.status ?? "open")}
              </li>
            ))}
            {tickets.data?.results.length === 0 ? <li className="muted">No tickets.</li> : null}
          </ul>
          <Notes customerId={data.id} />
          <Merge customer={data} />
        </section>
      </div>
      <section>
        <h2>Timeline across channels</h2>
        {conversations.isPending ? <Loading /> : null}
        <ol className="timeline" data-testid="timeline">
          {timeline.map(({ m, c }) => (
            <li key={m.id} className={`from-${m.sender_type}`}>
              <time dateTime={m.created_at}>{formatDateTime(m.created_at)}</time> ·{" "}
              <Link to={`/inbox/${c.id}`}>{humanize(c.channel_type)}</Link> · {m.sender_name || humanize(m.sender_type)}
              {m.is_private ? " (private note)" : ""}: {m.text}
            </li>
          ))}
          {conversations.data && timeline.length === 0 ? <li className="muted">No messages yet.</li> : null}
        </ol>
      </section>
    </section>
  );
}

function ProfileForm({ customer }: { customer: Customer }) {
  const client = useQueryClient();
  const [form, setForm] = useState({ name: customer.name ?? "", email: customer.email ?? "", phone: customer.phone ?? "" });
  const [saved, setSaved] = useState("");
  const save = useMutation({
    mutationFn: () => request<Customer>(`/api/v1/customers/${customer.id}/`, { method: "PATCH", json: form }),
    onSuccess: (updated) => {
      client.setQueryData(["customer", customer.id], updated);
      setSaved("Saved.");
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={submit} className="stack" aria-label="Profile">
      <h2>Profile</h2>
      {(["name", "email", "phone"] as const).map((field) => (
        <label key={field}>
          {humanize(field)}
          <input value={form[field]} onChange={(e) => setForm({ ...form, [field]: e.target.value })} />
        </label>
      ))}
      <button type="submit" disabled={save.isPending}>
        Save profile
      </button>
      <p role="status" className="muted">
        {saved}
      </p>
      {save.error ? <ErrorMessage error={save.error} /> : null}
    </form>
  );
}

type CustomerNote = Schemas["CustomerNote"];
type MergeResult = Schemas["MergeResult"];

export function Notes({ customerId }: { customerId: string }) {
  const client = useQueryClient();
  const path = endpoints.customerNotes(customerId);
  const notes = useOptionalApi<Page<CustomerNote>>(`${path}?page_size=100`);
  const [text, setText] = useState("");
  const add = useMutation({
    mutationFn: (body: { text: string }) => request<CustomerNote>(path, { method: "POST", json: body }),
    onSuccess: (note) => {
      setText("");
      client.setQueryData<Page<CustomerNote>>(["optional", `${path}?page_size=100`], (old) =>
        old ? { ...old, count: old.count + 1, results: [note, ...old.results.filter((n) => n.id !== note.id)] } : old,
      );
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (text.trim()) add.mutate({ text: text.trim() });
  };
  return (
    <section aria-labelledby="notes-title">
      <h2 id="notes-title">Notes</h2>
      <form onSubmit={submit} className="stack" aria-label="Add a note">
        <label htmlFor="note-text">New note</label>
        <textarea id="note-text" value={text} onChange={(e) => setText(e.target.value)} rows={2} maxLength={10000} />
        <button type="submit" disabled={add.isPending || !text.trim()}>
          Add note
        </button>
        {add.error ? <ErrorMessage error={add.error} /> : null}
      </form>
      <QueryState query={notes} feature="Customer notes">
        <ul className="notes" data-testid="customer-notes">
          {listOf(notes.data).map((note) => (
            <li key={note.id}>
              <p>{note.text}</p>
              <span className="muted">
                {note.author_name || "someone"} · {formatDateTime(note.created_at)}
              </span>
            </li>
          ))}
          {notes.data && listOf(notes.data).length === 0 ? <li className="muted">No notes yet.</li> : null}
        </ul>
      </QueryState>
      <p className="muted">Private notes written in conversations appear in the timeline below.</p>
    </section>
  );
}

const MOVED_NAMES: Record<string, [string, string]> = {
  "customers.customeridentity": ["identity", "identities"],
  "conversations.conversation": ["conversation", "conversations"],
  "conversations.ticket": ["ticket", "tickets"],
  "conversations.followuptask": ["follow-up", "follow-ups"],
  "commerce.order": ["order", "orders"],
  "customers.customernote": ["note", "notes"],
};

/** What a merge moved, in words ("2 conversations, 1 identity"). */
export function describeMoved(moved: Record<string, number>): string {
  const parts = Object.entries(moved).map(([label, count]) => {
    const [one, many] = MOVED_NAMES[label] ?? [`${humanize(label.split(".").pop() ?? label).toLowerCase()} record`, ""];
    return `${count} ${count === 1 ? one : many || `${one}s`}`;
  });
  return parts.length ? parts.join(", ") : "nothing else";
}

export function Merge({ customer }: { customer: Customer }) {
  const client = useQueryClient();
  const [query, setQuery] = useState("");
  const [candidate, setCandidate] = useState<Customer | null>(null);
  const [done, setDone] = useState("");
  const search = useQuery({
    queryKey: ["customers", "merge-search", query],
    enabled: query.trim().length >= 2,
    queryFn: () => request<Page<Customer>>(`/api/v1/customers/?q=${encodeURIComponent(query.trim())}&page_size=10`),
  });
  const merge = useMutation({
    mutationFn: (duplicate: Customer) =>
      request<MergeResult>(endpoints.customerMerge(customer.id), { method: "POST", json: { duplicate: duplicate.id } }),
    onSuccess: (result, duplicate) => {
      setCandidate(null);
      setQuery("");
      setDone(`Merged ${duplicate.name || duplicate.id} into this customer: moved ${describeMoved(result.moved)}.`);
      client.setQueryData(["customer", customer.id], result.customer);
      void client.invalidateQueries({ queryKey: ["conversations-of", customer.id] });
      void client.invalidateQueries({ queryKey: ["tickets", customer.id] });
      void client.invalidateQueries({ queryKey: ["customers"] });
      void client.invalidateQueries({ queryKey: ["optional"] });
    },
  });
  const missing = merge.error instanceof ApiError && merge.error.status === 405;
  const matches = (search.data?.results ?? []).filter((c) => c.id !== customer.id);
  return (
    <section aria-labelledby="merge-title">
      <h2 id="merge-title">Merge a duplicate</h2>
      <label htmlFor="merge-search">Find the duplicate (name, e-mail, phone or channel id)</label>
      <input id="merge-search" type="search" value={query} onChange={(e) => setQuery(e.target.value)} autoComplete="off" />
      {search.isError ? <ErrorMessage error={search.error} /> : null}
      {query.trim().length >= 2 && search.data ? (
        <ul className="merge-candidates" aria-label="Possible duplicates">
          {matches.map((c) => (
            <li key={c.id}>
              {c.name || "(no name)"} <span className="muted">{[c.email, c.phone].filter(Boolean).join(" · ")}</span>{" "}
              <button type="button" onClick={() => setCandidate(c)}>
                Merge…
              </button>
            </li>
          ))}
          {matches.length === 0 ? <li className="muted">No other customer matches.</li> : null}
        </ul>
      ) : null}
      {candidate ? (
        <div className="dialog-backdrop">
          <div
            onKeyDown={(e) => e.key === "Escape" && setCandidate(null)}
            role="alertdialog"
            aria-modal="true" aria-labelledby="merge-confirm-title" aria-describedby="merge-confirm-text" className="dialog">
            <h3 id="merge-confirm-title">Merge customers?</h3>
            <p id="merge-confirm-text">
              Merge <strong>{candidate.name || candidate.id}</strong> into <strong>{customer.name || customer.id}</strong>? Its
              identities, conversations, tickets, orders and notes move to {customer.name || "this customer"}, and it disappears
              from the customer list. This cannot be undone.
            </p>
            <div className="row">
              <button type="button" className="danger" onClick={() => merge.mutate(candidate)} disabled={merge.isPending}>
                Merge
              </button>
              <button type="button" onClick={() => setCandidate(null)} autoFocus>
                Cancel
              </button>
            </div>
            {merge.error && !missing ? <ErrorMessage error={merge.error} /> : null}
          </div>
        </div>
      ) : null}
      {missing ? <NotAvailable feature="Merging customers" /> : null}
      <p role="status" className="muted">
        {done}
      </p>
    </section>
  );
}
