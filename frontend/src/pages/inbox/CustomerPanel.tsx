import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { type Conversation, type Customer, listOf, type Page, request, type Ticket } from "../../api/client";
import { endpoints } from "../../api/endpoints";
import { useOptionalApi } from "../../api/hooks";
import { ErrorMessage, Loading, QueryState } from "../../components/States";
import { formatDateTime, formatTime, humanize } from "../../lib/format";
import { QuickActions } from "./QuickActions";

export function useCustomer(id: string | undefined) {
  return useQuery({
    queryKey: ["customer", id],
    enabled: Boolean(id),
    queryFn: () => request<Customer>(`/api/v1/customers/${id}/`),
  });
}

export function useCustomerConversations(id: string | undefined) {
  return useQuery({
    queryKey: ["conversations-of", id],
    enabled: Boolean(id),
    queryFn: () => request<Page<Conversation>>(`/api/v1/conversations/?customer=${id}&page_size=50`),
  });
}

export function useCustomerTickets(id: string | undefined) {
  return useQuery({
    queryKey: ["tickets", id],
    enabled: Boolean(id),
    queryFn: () => request<Page<Ticket>>(`/api/v1/tickets/?customer=${id}&page_size=50`),
  });
}

export function CustomerPanel({ conversation }: { conversation: Conversation }) {
  const customerId = conversation.customer?.id;
  const customer = useCustomer(customerId);
  const previous = useCustomerConversations(customerId);
  const tickets = useCustomerTickets(customerId);
  const orders = useOptionalApi<Page<Record<string, unknown>> | Record<string, unknown>[]>(customerId ? endpoints.orders(customerId) : null);
  return (
    <aside className="customer-panel" aria-label="Customer">
      <section>
        <h3>Customer</h3>
        {customer.isPending ? <Loading /> : null}
        {customer.isError ? <ErrorMessage error={customer.error} /> : null}
        {customer.data ? (
          <dl className="facts">
            <dt>Name</dt>
            <dd>
              <Link to={`/customers/${customer.data.id}`}>{customer.data.name || "(no name)"}</Link>
            </dd>
            <dt>Email</dt>
            <dd>{customer.data.email || "—"}</dd>
            <dt>Phone</dt>
            <dd>{customer.data.phone || "—"}</dd>
            <dt>Language</dt>
            <dd>{customer.data.language || "—"}</dd>
            {customer.data.memory_summary ? (
              <>
                <dt>Memory</dt>
                <dd>{customer.data.memory_summary}</dd>
              </>
            ) : null}
          </dl>
        ) : null}
      </section>
      <section>
        <h3>Identities</h3>
        <ul>
          {(customer.data?.identities ?? []).map((identity) => (
            <li key={identity.id}>
              {humanize(identity.channel_type)}: {identity.display_name || identity.external_id}
            </li>
          ))}
        </ul>
      </section>
      <QuickActions conversation={conversation} />
      <section>
        <h3>Orders</h3>
        <QueryState query={orders} feature="Orders">
          {listOf(orders.data).length === 0 ? <p className="muted">No orders.</p> : null}
          <ul>
            {listOf(orders.data).map((order, i) => (
              <li key={String(order.id ?? i)}>
                #{String(order.number ?? order.external_id ?? order.id)} · {String(order.status ?? "")} · {String(order.total ?? "")}{" "}
                {String(order.currency ?? "")}
              </li>
            ))}
          </ul>
        </QueryState>
      </section>
      <section>
        <h3>Tickets</h3>
        {tickets.isError ? <ErrorMessage error={tickets.error} /> : null}
        {tickets.data && tickets.data.results.length === 0 ? <p className="muted">No tickets.</p> : null}
        <ul>
          {(tickets.data?.results ?? []).map((ticket) => (
            <li key={ticket.id}>
              {ticket.subject} · {humanize(ticket.status ?? "open")} · {formatDateTime(ticket.created_at)}
            </li>
          ))}
        </ul>
      </section>
      <section>
        <h3>Previous conversations</h3>
        <ul>
          {listOf(previous.data)
            .filter((item) => item.id !== conversation.id)
            .map((item) => (
              <li key={item.id}>
                <Link to={`/inbox/${item.id}`}>
                  {humanize(item.channel_type)} · {humanize(item.status)} · {formatTime(item.last_message_at ?? item.created_at)}
                </Link>
              </li>
            ))}
        </ul>
      </section>
    </aside>
  );
}
