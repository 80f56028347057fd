import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type SocketLike, WebChatClient, tokenStorageKey } from "../src/client";
import type { ChatMessage } from "../src/protocol";

/** Sockets that never open (a proxy that blocks websockets). */
class BlockedSocket implements SocketLike {
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  send(): void {
    throw new Error("never open");
  }
  close(): void {}
}

interface Call {
  method: string;
  url: string;
  token: string | null;
  body: Record<string, unknown> | null;
}

function message(id: string, overrides: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id,
    conversation_id: "conv-1",
    direction: "outbound",
    sender_type: "agent",
    sender_name: "Alex",
    text: `text ${id}`,
    buttons: [],
    attachments: [],
    delivery_status: "delivered",
    client_id: null,
    created_at: `2026-11-21T01:00:0${id.slice(-1)}Z`,
    ...overrides,
  };
}

describe("REST fallback", () => {
  let sockets: BlockedSocket[];
  let calls: Call[];
  let routes: Record<string, (call: Call) => [number, unknown] | "offline">;
  let storage: Map<string, string>;

  function makeClient(): WebChatClient {
    return new WebChatClient({
      url: "ws://parley.test/ws/webchat/k/",
      widgetKey: "k",
      storage: {
        getItem: (key) => storage.get(key) ?? null,
        setItem: (key, value) => void storage.set(key, value),
        removeItem: (key) => void storage.delete(key),
      },
      random: () => 0,
      newId: () => "c-1",
      restBase: "https://parley.test/api/v1/webchat/k/",
      pollIntervalMs: 3000,
      socketFactory: () => {
        const socket = new BlockedSocket();
        sockets.push(socket);
        return socket;
      },
      fetchImpl: (async (url: string, init: RequestInit) => {
        const headers = init.headers as Record<string, string>;
        const call: Call = {
          method: init.method ?? "GET",
          url: url.replace("https://parley.test/api/v1/webchat/k/", ""),
          token: headers["X-Parley-Visitor-Token"] ?? null,
          body: init.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : null,
        };
        calls.push(call);
        const route = routes[`${call.method} ${call.url.split("?")[0]}`];
        const result = route ? route(call) : ([404, { code: "not_found" }] as [number, unknown]);
        if (result === "offline") throw new TypeError("Failed to fetch");
        return new Response(JSON.stringify(result[1]), { status: result[0] });
      }) as unknown as typeof fetch,
    });
  }

  async function failSockets(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      sockets[sockets.length - 1].onclose?.({ code: 1006 });
      if (i < count - 1) vi.advanceTimersByTime(30000);
    }
    await vi.advanceTimersByTimeAsync(0);
  }

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    calls = [];
    storage = new Map([[tokenStorageKey("k"), "stored-token"]]);
    routes = {
      "POST session/": () => [200, { protocol: 1, visitor_token: "rest-token", visitor_id: "v1", resumed: true, conversation_id: "conv-1", conversation_status: "bot", greeting: "Hi" }],
      "GET messages/": () => [200, { conversation_id: "conv-1", conversation_status: "bot", messages: [message("m-1")] }],
    };
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("switches to REST after three sockets fail before any welcome, resuming the stored visitor", async () => {
    const client = makeClient();
    client.connect();
    await failSockets(3);
    expect(sockets).toHaveLength(3);
    expect(client.transport).toBe("rest");
    expect(calls.slice(0, 2).map((c) => `${c.method} ${c.url}`)).toEqual(["POST session/", "GET messages/"]);
    expect(calls[0]).toMatchObject({ token: "stored-token", body: { visitor_token: "stored-token" } });
    expect(calls[1].token).toBe("rest-token");
    expect(client.state).toBe("open");
    expect(client.messages.map((m) => m.id)).toEqual(["m-1"]);
    expect(storage.get(tokenStorageKey("k"))).toBe("rest-token");
  });

  it("posts messages, applies the ack, and polls for replies after the newest message", async () => {
    const client = makeClient();
    client.connect();
    await failSockets(3);
    routes["POST messages/"] = (call) => [
      201,
      {
        ack: { client_id: call.body!.client_id, message_id: "m-2", conversation_id: "conv-1", duplicate: false },
        message: message("m-2", { direction: "inbound", sender_type: "customer", text: "Hi there", client_id: "c-1", delivery_status: "sent" }),
      },
    ];
    client.sendText("Hi there");
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.at(-1)).toMatchObject({ method: "POST", url: "messages/", body: { client_id: "c-1", text: "Hi there", button_id: null } });
    expect(client.messages.map((m) => [m.id, m.delivery_status])).toEqual([["m-1", "delivered"], ["m-2", "sent"]]);

    routes["GET messages/"] = () => [200, { conversation_id: "conv-1", conversation_status: "assigned", messages: [message("m-3")] }];
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls.at(-1)).toMatchObject({ method: "GET", url: "messages/?after=m-2" });
    expect(client.messages.map((m) => m.id)).toEqual(["m-1", "m-2", "m-3"]);
    expect(client.conversationStatus).toBe("assigned");

    client.markRead();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.at(-1)).toMatchObject({ method: "POST", url: "read/", body: { message_id: "m-3" } });
  });

  it("keeps a message that could not be posted and re-sends it with the same client_id on the next poll", async () => {
    const client = makeClient();
    client.connect();
    await failSockets(3);
    routes["POST messages/"] = () => "offline";
    client.sendText("Still there?");
    await vi.advanceTimersByTimeAsync(0);
    expect(client.messages.at(-1)!.delivery_status).toBe("sending");

    routes["POST messages/"] = (call) => [
      200,
      { ack: { client_id: call.body!.client_id, message_id: "m-7", conversation_id: "conv-1", duplicate: true }, message: message("m-7", { direction: "inbound", sender_type: "customer", client_id: "c-1" }) },
    ];
    routes["GET messages/"] = () => [200, { conversation_id: "conv-1", conversation_status: "bot", messages: [] }];
    await vi.advanceTimersByTimeAsync(3000);
    const posts = calls.filter((c) => c.method === "POST" && c.url === "messages/");
    expect(posts.map((c) => c.body!.client_id)).toEqual(["c-1", "c-1"]);
    expect(client.messages.at(-1)).toMatchObject({ id: "m-7" });
  });

  it("stops when the widget is unknown", async () => {
    routes["POST session/"] = () => [404, { code: "unknown_widget", detail: "No such widget" }];
    const client = makeClient();
    client.connect();
    await failSockets(3);
    expect(client.state).toBe("failed");
    await vi.advanceTimersByTimeAsync(60000);
    expect(calls).toHaveLength(1);
  });

  it("does not fall back once the websocket has worked on this page", async () => {
    const client = makeClient();
    client.connect();
    // First socket works: open + welcome.
    const first = sockets[0];
    first.readyState = 1;
    first.send = () => undefined;
    first.onopen?.({});
    first.onmessage?.({ data: JSON.stringify({ type: "welcome", protocol: 1, visitor_token: "t", visitor_id: "v", resumed: true, conversation_id: null, conversation_status: null, history: [] }) });
    await failSockets(4);
    expect(client.transport).toBe("websocket");
    expect(calls).toHaveLength(0);
  });
});
