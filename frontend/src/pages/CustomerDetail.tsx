import { useMutation, useQueries, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { ApiError, type Customer, listOf, type Message, type Page, request } from "../api/client";
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
      <div className="grid-2">
        <ProfileForm customer={data} />
        <section>
          <h2>Identities across channels</h2>
          <ul>
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

function Notes({ customerId }: { customerId: string }) {
  const notes = useOptionalApi<Page<Record<string, unknown>> | Record<string, unknown>[]>(endpoints.customerNotes(customerId));
  return (
    <section>
      <h2>Notes</h2>
      <QueryState query={notes} feature="Customer notes">
        <ul>
          {listOf(notes.data).map((note, i) => (
            <li key={String(note.id ?? i)}>{String(note.text ?? "")}</li>
          ))}
        </ul>
      </QueryState>
      <p className="muted">Private notes written in conversations appear in the timeline below.</p>
    </section>
  );
}

function Merge({ customer }: { customer: Customer }) {
  const [other, setOther] = useState("");
  const navigate = useNavigate();
  const merge = useMutation({
    mutationFn: () => request<Customer>(endpoints.customerMerge(customer.id), { method: "POST", json: { duplicate: other } }),
    onSuccess: (merged) => navigate(`/customers/${merged.id ?? customer.id}`),
  });
  const missing = merge.error instanceof ApiError && merge.error.notAvailable;
  return (
    <section>
      <h2>Merge a duplicate</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          merge.mutate();
        }}
      >
        <label htmlFor="merge-id">Duplicate customer id</label>
        <input id="merge-id" value={other} onChange={(e) => setOther(e.target.value)} required pattern="[0-9a-fA-F-]{36}" />
        <button type="submit">Merge into this customer</button>
      </form>
      {missing ? <NotAvailable feature="Merging customers" /> : merge.error ? <ErrorMessage error={merge.error} /> : null}
    </section>
  );
}
