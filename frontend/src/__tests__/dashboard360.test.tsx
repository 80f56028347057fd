import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, render, renderHook, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";
import { MemoryRouter } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Customer } from "../api/client";
import { formatSpans, parseSpans } from "../pages/BusinessHours";
import { describeMoved, Merge, Notes } from "../pages/CustomerDetail";
import { confusionOf, heatmapOption } from "../pages/Models";
import { applyEvent } from "../realtime/applyEvent";
import { describeTyping, TYPING_TTL_MS, TypingNotifier, useTyping } from "../realtime/typing";

type Answer = { status: number; body: unknown };

/** A fetch double answering from `handler`; records every call with its parsed JSON body. */
function mockFetch(handler: (url: string, method: string, body: unknown) => Answer | undefined) {
  const calls: { url: string; method: string; body: unknown }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const method = (init.method ?? "GET").toUpperCase();
      const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
      calls.push({ url, method, body });
      const answer = handler(url, method, body) ?? { status: 404, body: { detail: "Not found." } };
      return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "Content-Type": "application/json" } });
    }),
  );
  return calls;
}

function wrap(client: QueryClient) {
  return ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={client}>
      <MemoryRouter>{children}</MemoryRouter>
    </QueryClientProvider>
  );
}

const newClient = () => new QueryClient({ defaultOptions: { queries: { retry: false } } });
const page = <T,>(results: T[]) => ({ count: results.length, next: null, previous: null, results });
const customer = (id: string, name: string, extra: Partial<Customer> = {}) =>
  ({ id, name, email: "", phone: "", identities: [], merged_into: null, ...extra }) as unknown as Customer;

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("Customer 360 merge", () => {
  it("asks for confirmation, cancels without a request, then merges the picked duplicate", async () => {
    const kept = customer("11111111-1111-1111-1111-111111111111", "Ada Lovelace");
    const dup = customer("22222222-2222-2222-2222-222222222222", "Ada L.", { email: "ada@example.com" });
    const calls = mockFetch((url, method) => {
      if (url.startsWith("/api/v1/customers/?q=")) return { status: 200, body: page([kept, dup]) };
      if (method === "POST" && url === `/api/v1/customers/${kept.id}/merge/`)
        return {
          status: 200,
          body: { customer: kept, duplicate: dup.id, moved: { "conversations.conversation": 2, "customers.customeridentity": 1 }, filled_fields: [] },
        };
      return undefined;
    });
    const user = userEvent.setup();
    render(<Merge customer={kept} />, { wrapper: wrap(newClient()) });

    await user.type(screen.getByLabelText(/find the duplicate/i), "Ada");
    const pick = await screen.findByRole("button", { name: "Merge…" }); // the kept customer is not offered
    expect(screen.getAllByRole("button", { name: "Merge…" })).toHaveLength(1);
    await user.click(pick);
    const dialog = screen.getByRole("alertdialog", { name: "Merge customers?" });
    expect(dialog).toHaveTextContent("Merge Ada L. into Ada Lovelace?");
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);

    await user.click(screen.getByRole("button", { name: "Merge…" }));
    await user.click(screen.getByRole("button", { name: "Merge" }));
    await screen.findByText(/Merged Ada L\. into this customer: moved 2 conversations, 1 identity\./);
    expect(calls.filter((c) => c.method === "POST")).toEqual([
      { url: `/api/v1/customers/${kept.id}/merge/`, method: "POST", body: { duplicate: dup.id } },
    ]);
    expect(screen.queryByRole("alertdialog")).toBeNull();
  });

  it("keeps the dialog open with the server's reason when the merge is refused", async () => {
    const kept = customer("11111111-1111-1111-1111-111111111111", "Ada");
    const dup = customer("33333333-3333-3333-3333-333333333333", "Old Ada");
    mockFetch((url, method) => {
      if (url.startsWith("/api/v1/customers/?q=")) return { status: 200, body: page([dup]) };
      if (method === "POST") return { status: 409, body: { detail: "that customer was already merged into another one", code: "conflict" } };
      return undefined;
    });
    const user = userEvent.setup();
    render(<Merge customer={kept} />, { wrapper: wrap(newClient()) });
    await user.type(screen.getByLabelText(/find the duplicate/i), "Old");
    await user.click(await screen.findByRole("button", { name: "Merge…" }));
    await user.click(screen.getByRole("button", { name: "Merge" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("already merged");
    expect(screen.getByRole("alertdialog")).toBeInTheDocument();
  });

  it("describes what moved", () => {
    expect(describeMoved({ "commerce.order": 1, "conversations.ticket": 3 })).toBe("1 order, 3 tickets");
    expect(describeMoved({})).toBe("nothing else");
  });
});

describe("Customer notes", () => {
  it("lists notes and adds a new one on top", async () => {
    const id = "11111111-1111-1111-1111-111111111111";
    const note = (n: string, text: string) => ({ id: n, customer: id, text, author_name: "dana@parley.local", created_at: "2026-01-01T10:00:00Z" });
    const calls = mockFetch((url, method, body) => {
      if (method === "GET" && url.startsWith(`/api/v1/customers/${id}/notes/`)) return { status: 200, body: page([note("n1", "Prefers e-mail")]) };
      if (method === "POST") return { status: 201, body: note("n2", (body as { text: string }).text) };
      return undefined;
    });
    const user = userEvent.setup();
    render(<Notes customerId={id} />, { wrapper: wrap(newClient()) });
    expect(await screen.findByText("Prefers e-mail")).toBeInTheDocument();
    await user.type(screen.getByLabelText("New note"), "  VIP customer ");
    await user.click(screen.getByRole("button", { name: "Add note" }));
    await waitFor(() => expect(screen.getAllByRole("listitem").map((li) => li.querySelector("p")?.textContent)).toEqual(["VIP customer", "Prefers e-mail"]));
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ text: "VIP customer" });
    expect(screen.getByLabelText("New note")).toHaveValue("");
  });
});

describe("typing indicators", () => {
  it("throttles the composer's typing frames and stops on empty text or idleness", () => {
    vi.useFakeTimers();
    const sent: boolean[] = [];
    const notifier = new TypingNotifier((t) => sent.push(t), 3000, 5000);
    notifier.update("H");
    notifier.update("He");
    notifier.update("Hel");
    expect(sent).toEqual([true]);
    vi.advanceTimersByTime(3100);
    notifier.update("Hell");
    expect(sent).toEqual([true, true]);
    notifier.update("");
    expect(sent).toEqual([true, true, false]);
    notifier.update("x");
    vi.advanceTimersByTime(5100); // no edits for 5 s: stopped
    expect(sent).toEqual([true, true, false, true, false]);
    notifier.stop();
    expect(sent).toHaveLength(5);
  });

  it("shows who is typing from inbox events, hides the agent's own typing, and expires", async () => {
    const client = newClient();
    const { result } = renderHook(() => useTyping("c1", "Dana"), { wrapper: wrap(client) });
    act(() => {
      applyEvent(client, { type: "typing", tenant_id: "t", conversation_id: "c1", sender_type: "customer", is_typing: true });
      applyEvent(client, { type: "typing", tenant_id: "t", conversation_id: "c1", sender_type: "agent", sender_name: "Dana", is_typing: true });
      applyEvent(client, { type: "typing", tenant_id: "t", conversation_id: "c2", sender_type: "assistant", is_typing: true });
    });
    await waitFor(() => expect(result.current.map((t) => t.sender_type)).toEqual(["customer"]));
    expect(describeTyping(result.current, "Maria")).toBe("Maria is typing…");
    act(() => {
      applyEvent(client, { type: "typing", tenant_id: "t", conversation_id: "c1", sender_type: "assistant", is_typing: true });
    });
    await waitFor(() => expect(describeTyping(result.current, "Maria")).toBe("Maria and The assistant are typing…"));
    act(() => {
      applyEvent(client, { type: "typing", tenant_id: "t", conversation_id: "c1", sender_type: "customer", is_typing: false });
    });
    await waitFor(() => expect(describeTyping(result.current, "Maria")).toBe("The assistant is typing…"));
  });

  it("forgets a typist whose 'stopped' never came", () => {
    const client = newClient();
    const start = Date.now();
    applyEvent(client, { type: "typing", tenant_id: "t", conversation_id: "c1", sender_type: "customer", is_typing: true });
    vi.useFakeTimers({ now: start + TYPING_TTL_MS + 1 });
    const { result } = renderHook(() => useTyping("c1"), { wrapper: wrap(client) });
    expect(result.current).toEqual([]);
  });
});

describe("evaluation view", () => {
  const report = {
    n: 10,
    errors: 3,
    total_labels: 5,
    labels: ["refund", "delivery"],
    matrix: [
      [3, 2],
      [1, 4],
    ],
    worst: [{ gold: "refund", predicted: "delivery", count: 2, share_of_gold: 0.4 }],
  };

  it("turns the stored confusion report into heatmap cells (x predicted, y gold)", () => {
    const confusion = confusionOf({ accuracy: 0.7, confusion: report });
    expect(confusion).not.toBeNull();
    const option = heatmapOption(confusion!) as { series: { name: string; data: number[][] }[]; visualMap: { max: number; seriesIndex: number } };
    expect(option.series.map((s) => [s.name, s.data])).toEqual([
      [
        "correct",
        [
          [0, 0, 3],
          [1, 1, 4],
        ],
      ],
      [
        "mistakes",
        [
          [1, 0, 2],
          [0, 1, 1],
        ],
      ],
    ]);
    expect(option.visualMap).toMatchObject({ seriesIndex: 1, max: 2 }); // shaded up to the biggest mistake
    expect(confusionOf({ confusion: { ...report, matrix: [[1]] } })).toBeNull();
    expect(confusionOf({ accuracy: 1 })).toBeNull();
  });
});

describe("business hours form helpers", () => {
  it("parses spans and refuses anything else", () => {
    expect(parseSpans("9:00-12:00, 13:00 – 17:30")).toEqual([
      ["09:00", "12:00"],
      ["13:00", "17:30"],
    ]);
    expect(parseSpans("  ")).toEqual([]);
    expect(() => parseSpans("9am-5pm")).toThrow(/not a time span/);
    expect(formatSpans([["09:00", "17:00"]])).toBe("09:00-17:00");
  });
});
