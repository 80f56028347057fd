import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, fireEvent, render, renderHook, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Conversation, Page } from "../api/client";
import { RequireAuth } from "../auth";
import { useHotkeys } from "../lib/useHotkeys";
import { Login } from "../pages/Login";
import { Inbox } from "../pages/inbox/Inbox";
import { keys } from "../realtime/applyEvent";
import { useInboxSocket } from "../realtime/useInboxSocket";
import { conversation, page } from "./fixtures";

type Handler = (url: string, init: RequestInit) => { status: number; body: unknown } | undefined;

/** A fetch double answering from `handler`; records every call. */
function mockFetch(handler: Handler) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    calls.push({ url, init });
    const answer = handler(url, init) ?? { status: 404, body: { detail: "Not found." } };
    return new Response(answer.body === null ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "Content-Type": "application/json" },
    });
  });
  vi.stubGlobal("fetch", fn);
  return calls;
}

function wrapper(client: QueryClient, path = "/") {
  return ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[path]}>{children}</MemoryRouter>
    </QueryClientProvider>
  );
}

function Where() {
  const location = useLocation();
  return <output data-testid="where">{location.pathname}</output>;
}

const ME = { id: "u1", email: "demo@parley.local", name: "Dana", role: "owner", tenant: { name: "Demo" }, tenants: [] };

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("useHotkeys", () => {
  it("fires on a bare key but not while typing in a field or with modifiers", () => {
    const onJ = vi.fn();
    renderHook(() => useHotkeys({ j: onJ }));
    fireEvent.keyDown(window, { key: "j" });
    fireEvent.keyDown(window, { key: "j", ctrlKey: true });
    const input = document.createElement("input");
    document.body.appendChild(input);
    fireEvent.keyDown(input, { key: "j" });
    input.remove();
    expect(onJ).toHaveBeenCalledTimes(1);
  });
});

class FakeSocket {
  static instances: FakeSocket[] = [];
  static OPEN = 1;
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(event: unknown) {
    this.onmessage?.({ data: JSON.stringify(event) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
}

describe("useInboxSocket", () => {
  beforeEach(() => {
    FakeSocket.instances = [];
    vi.stubGlobal("WebSocket", FakeSocket);
  });

  it("applies events to the cache and reconnects with backoff after a drop", async () => {
    vi.useFakeTimers();
    const client = new QueryClient();
    client.setQueryData(keys.conversations({}), page<Conversation>([]));
    const { result } = renderHook(() => useInboxSocket(), { wrapper: wrapper(client) });
    expect(FakeSocket.instances).toHaveLength(1);
    expect(FakeSocket.instances[0]?.url).toMatch(/^ws:\/\/.*\/ws\/inbox\/$/);
    act(() => FakeSocket.instances[0]?.open());
    expect(result.current).toBe("live");
    act(() => FakeSocket.instances[0]?.receive({ type: "conversation.created", tenant_id: "t", conversation: conversation({ id: "n1" }) }));
    expect(client.getQueryData<Page<Conversation>>(keys.conversations({}))?.results.map((c) => c.id)).toEqual(["n1"]);
    act(() => FakeSocket.instances[0]?.receive("not json at all"));
    act(() => FakeSocket.instances[0]?.drop());
    expect(result.current).toBe("offline");
    act(() => vi.advanceTimersByTime(499));
    expect(FakeSocket.instances).toHaveLength(1);
    act(() => vi.advanceTimersByTime(1));
    expect(FakeSocket.instances).toHaveLength(2);
    const invalidate = vi.spyOn(client, "invalidateQueries");
    act(() => FakeSocket.instances[1]?.open());
    expect(result.current).toBe("live");
    expect(invalidate).toHaveBeenCalled(); // events may have been missed while offline
  });
});

describe("Login", () => {
  it("fetches the CSRF cookie, posts the credentials with the token, and goes to the inbox", async () => {
    document.cookie = "csrftoken=tok123";
    const calls = mockFetch((url) => {
      if (url.endsWith("/auth/csrf/")) return { status: 200, body: { csrfToken: "tok123" } };
      if (url.endsWith("/auth/login/")) return { status: 200, body: ME };
      return undefined;
    });
    const client = new QueryClient();
    render(
      <Routes>
        <Route path="/login" element={<Login />} />
        <Route path="*" element={<Where />} />
      </Routes>,
      { wrapper: wrapper(client, "/login") },
    );
    await userEvent.type(screen.getByLabelText("Email"), "demo@parley.local");
    await userEvent.type(screen.getByLabelText("Password"), "secret");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(screen.getByTestId("where")).toHaveTextContent("/inbox"));
    const login = calls.find((c) => c.url.endsWith("/auth/login/"));
    expect(JSON.parse(String(login?.init.body))).toEqual({ email: "demo@parley.local", password: "secret" });
    expect(new Headers(login?.init.headers).get("X-CSRFToken")).toBe("tok123");
    expect(client.getQueryData(["me"])).toEqual(ME);
  });

  it("shows the server's reason on a wrong password", async () => {
    mockFetch((url) => {
      if (url.endsWith("/auth/csrf/")) return { status: 200, body: {} };
      if (url.endsWith("/auth/login/")) return { status: 401, body: { detail: "Wrong e-mail or password.", code: "not_authenticated" } };
      return undefined;
    });
    render(<Login />, { wrapper: wrapper(new QueryClient(), "/login") });
    await userEvent.type(screen.getByLabelText("Email"), "x@y.z");
    await userEvent.type(screen.getByLabelText("Password"), "nope");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Wrong e-mail or password.");
  });
});

describe("Inbox", () => {
  function renderInbox(conversations: Conversation[]) {
    const calls = mockFetch((url) => {
      if (url.endsWith("/auth/me/")) return { status: 200, body: ME };
      if (url.startsWith("/api/v1/members/")) return { status: 200, body: page([]) };
      if (url.startsWith("/api/v1/conversations/?")) {
        const params = new URL(url, "http://x").searchParams;
        const status = params.get("status");
        return { status: 200, body: page(conversations.filter((c) => !status || c.status === status)) };
      }
      return undefined;
    });
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <RequireAuth>
        <Routes>
          <Route path="/inbox" element={<Inbox />}>
            <Route path=":conversationId" element={<Where />} />
          </Route>
        </Routes>
      </RequireAuth>,
      { wrapper: wrapper(client, "/inbox") },
    );
    return calls;
  }

  it("lists conversations with unread counts and the human queue, and moves with j/k", async () => {
    const calls = renderInbox([
      conversation({ id: "c1", customer: { id: "a", name: "Maria Lopez", email: "", phone: "" }, unread_count: 2 }),
      conversation({ id: "c2", customer: { id: "b", name: "John Smith", email: "", phone: "" }, status: "pending_human" }),
    ]);
    const rows = await screen.findAllByTestId("conversation-row");
    expect(rows.map((r) => r.querySelector(".name")?.textContent)).toEqual(["Maria Lopez", "John Smith"]);
    expect(screen.getByLabelText("2 unread")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: /Waiting for a human/ })).toHaveTextContent("1");
    fireEvent.keyDown(window, { key: "j" });
    await waitFor(() => expect(screen.getByTestId("where")).toHaveTextContent("/inbox/c1"));
    fireEvent.keyDown(window, { key: "j" });
    await waitFor(() => expect(screen.getByTestId("where")).toHaveTextContent("/inbox/c2"));
    fireEvent.keyDown(window, { key: "k" });
    await waitFor(() => expect(screen.getByTestId("where")).toHaveTextContent("/inbox/c1"));
    await userEvent.selectOptions(screen.getByLabelText("Status"), "pending_human");
    await waitFor(() => expect(calls.some((c) => c.url.includes("status=pending_human") && c.url.includes("page_size=100"))).toBe(true));
  });

  it("sends people without a session to the login page", async () => {
    mockFetch((url) => (url.endsWith("/auth/me/") ? { status: 401, body: { detail: "Authentication credentials were not provided." } } : undefined));
    render(
      <Routes>
        <Route
          path="/inbox"
          element={
            <RequireAuth>
              <p>secret</p>
            </RequireAuth>
          }
        />
        <Route path="*" element={<Where />} />
      </Routes>,
      { wrapper: wrapper(new QueryClient({ defaultOptions: { queries: { retry: false } } }), "/inbox") },
    );
    await waitFor(() => expect(screen.getByTestId("where")).toHaveTextContent("/login"));
    expect(screen.queryByText("secret")).toBeNull();
  });
});
