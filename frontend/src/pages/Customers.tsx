import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { type Customer, type Page, request } from "../api/client";
import { DataTable } from "../components/DataTable";
import { ErrorMessage, Loading } from "../components/States";
import { formatDateTime, humanize } from "../lib/format";

export default function Customers() {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const [draft, setDraft] = useState(q);
  const customers = useQuery({
    queryKey: ["customers", q],
    queryFn: () => request<Page<Customer>>(`/api/v1/customers/?${new URLSearchParams({ q, page_size: "100" })}`),
  });
  return (
    <section aria-labelledby="customers-title">
      <h1 id="customers-title">Customers</h1>
      <form
        role="search"
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setParams(draft ? { q: draft } : {});
        }}
      >
        <label htmlFor="customer-q">Search by name, email, phone or channel id</label>
        <input id="customer-q" type="search" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      {customers.isPending ? <Loading /> : null}
      {customers.isError ? <ErrorMessage error={customers.error} /> : null}
      {customers.data ? (
        <DataTable<Customer>
          caption={`${customers.data.count} customers`}
          rows={customers.data.results}
          empty="No customer matches."
          columns={[
            { key: "name", label: "Name", render: (c) => <Link to={`/customers/${c.id}`}>{c.name || "(no name)"}</Link> },
            { key: "email", label: "Email" },
            { key: "phone", label: "Phone" },
            { key: "identities", label: "Channels", render: (c) => c.identities.map((i) => humanize(i.channel_type)).join(", ") },
            { key: "updated_at", label: "Updated", render: (c) => formatDateTime(c.updated_at) },
          ]}
        />
      ) : null}
    </section>
  );
}
