import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { type Customer, listOf, type Page, request } from "../api/client";
import { endpoints } from "../api/endpoints";
import { useOptionalApi } from "../api/hooks";
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
  const orderNumber = q.replace(/^#/, "").trim();
  const orders = useOptionalApi<Page<{ id: string; number: string; customer: string; status: string }>>(
    orderNumber ? endpoints.ordersByNumber(orderNumber) : null,
  );
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
        <label htmlFor="customer-q">Search by name, email, phone, channel id or order number</label>
        <input id="customer-q" type="search" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      {listOf(orders.data).length ? (
        <p data-testid="order-matches">
          Order{" "}
          {listOf(orders.data).map((order) => (
            <Link key={order.id} to={`/customers/${order.customer}`}>
              #{order.number} ({order.status})
            </Link>
          ))}
        </p>
      ) : null}
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
