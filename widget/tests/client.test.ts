import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type SocketLike, WebChatClient, backoffDelay, tokenStorageKey } from "../src/client";
import type { ChatMessage } from "../src/protocol";

/** A fake WebSocket that records what the client sent and lets the test play the server. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closedWith: number | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason?: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code = 1000): void {
    this.closedWith = code;
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }

  framesOf(type: string): Record<string, unknown>[] {
    return this.sent.filter((frame) => frame.type === type);
  }
}

class MemoryStorage {
  data = new Map<string, string>();
  getItem(key: string): string | null {
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.data.set(key, value);
  }
  removeItem(key: string): void {
    this.data.delete(key);
  }
}

function message(overrides: Partial<ChatMessage>): ChatMessage {
  return {
    id: "m-1",
    conversation_id: "conv-1",
    direction: "outbound",
    sender_type: "assistant",
    sender_name: "",
    text: "Hello",
    buttons: [],
    attachments: [],
    delivery_status: "delivered",
    client_id: null,
    created_at: "2026-11-21T01:00:00.000000+00:00",
    ...overrides,
  };
}

function welcome(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "welcome",
    protocol: 1,
    visitor_token: "token-1",
    visitor_id: "v_1",
    resumed: false,
    conversation_id: null,
    conversation_status: null,
    greeting: "Hi!",
    history: [],
    ...overrides,
  };
}

describe("WebChatClient", () => {
  let sockets: FakeSocket[];
  let storage: MemoryStorage;
  let ids: number;

  function makeClient(): WebChatClient {
    return new WebChatClient({
      url: "ws://parley.test/ws/webchat/demo-widget/",
      widgetKey: "demo-widget",
      storage,
      locale: "en-GB",
      random: () => 0, // no jitter: delays are exactly 1 s, 2 s, 4 s …
      socketFactory: (url) => {
        const socket = new FakeSocket(url);
        sockets.push(socket);
        return socket;
      },
      newId: () => `c-${++ids}`,
    });
  }

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    storage = new MemoryStorage();
    ids = 0;
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("says hello first with the stored token, then stores the token the server issues", () => {
    storage.setItem(tokenStorageKey("demo-widget"), "old-token");
    const client = makeClient();
    client.connect();
    expect(sockets[0].url).toBe("ws://parley.test/ws/webchat/demo-widget/");
    sockets[0].open();
    expect(sockets[0].sent).toEqual([{ type: "hello", visitor_token: "old-token", locale: "en-GB" }]);

    sockets[0].receive(welcome({ visitor_token: "new-token", resumed: false }));
    expect(storage.getItem("parley:demo-widget:visitor_token")).toBe("new-token");
    expect(client.state).toBe("open");
  });

  it("sends a null token on a first visit", () => {
    const client = makeClient();
    client.connect();
    sockets[0].open();
    expect(sockets[0].sent[0]).toMatchObject({ type: "hello", visitor_token: null });
  });

  it("restores history from welcome and resumes after the newest message on reconnect", () => {
    const client = makeClient();
    client.connect();
    sockets[0].open();
    sockets[0].receive(
      welcome({
        resumed: true,
        conversation_id: "conv-1",
        conversation_status: "bot",
        history: [
          message({ id: "m-1", direction: "inbound", sender_type: "customer", text: "Hi", client_id: "x" }),
          message({ id: "m-2", text: "Hello!", created_at: "2026-11-21T01:00:01+00:00" }),
        ],
      }),
    );
    expect(client.messages.map((m) => m.id)).toEqual(["m-1", "m-2"]);
    expect(client.conversationId).toBe("conv-1");

    sockets[0].drop(1006);
    expect(client.state).toBe("reconnecting");
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(2);
    sockets[1].open();
    expect(sockets[1].sent[0]).toEqual({
      type: "hello",
      visitor_token: "token-1",
      locale: "en-GB",
      after_message_id: "m-2",
    });
  });

  it("backs off 1 s, 2 s, 4 s … up to 30 s and resets after a welcome", () => {
    const client = makeClient();
    client.connect();
    const delays: number[] = [];
    for (let attempt = 0; attempt < 7; attempt += 1) {
      const before = sockets.length;
      sockets[sockets.length - 1].drop(1006);
      let waited = 0;
      while (sockets.length === before) {
        vi.advanceTimersByTime(250);
        waited += 250;
        if (waited > 60000) throw new Error("never reconnected");
      }
      delays.push(waited);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);

    const last = sockets[sockets.length - 1];
    last.open();
    last.receive(welcome());
    last.drop(1001);
    vi.advanceTimersByTime(999);
    expect(sockets[sockets.length - 1]).toBe(last);
    vi.advanceTimersByTime(1);
    expect(sockets[sockets.length - 1]).not.toBe(last);
    expect(client.state).toBe("reconnecting");
  });

  it("applies jitter below the nominal delay", () => {
    const options = { initialMs: 1000, maxMs: 30000, jitter: 0.2 };
    expect(backoffDelay(0, options, () => 1)).toBe(800);
    expect(backoffDelay(3, options, () => 0.5)).toBe(7200);
    expect(backoffDelay(50, options, () => 0)).toBe(30000);
  });

  it("stops reconnecting after a configuration close code", () => {
    const states: string[] = [];
    const client = makeClient();
    client.subscribe({ state: (state) => states.push(state) });
    client.connect();
    sockets[0].open();
    sockets[0].receive({ type: "error", code: "origin_not_allowed", detail: "Origin not allowed" });
    sockets[0].drop(4403);
    vi.advanceTimersByTime(120000);
    expect(sockets).toHaveLength(1);
    expect(client.state).toBe("failed");
    expect(states).toContain("failed");
    client.sendText("anyone?");
    expect(client.messages.at(-1)!.delivery_status).toBe("failed");
    expect(sockets).toHaveLength(1);
  });

  it("shows a sent message at once, then acknowledged, then its delivery status", () => {
    const client = makeClient();
    client.connect();
    sockets[0].open();
    sockets[0].receive(welcome());

    const clientId = client.sendText("  Where is my order?  ");
    expect(clientId).toBe("c-1");
    expect(client.messages).toHaveLength(1);
    expect(client.messages[0]).toMatchObject({ text: "Where is my order?", delivery_status: "sending" });
    expect(sockets[0].framesOf("message")).toEqual([
      { type: "message", client_id: "c-1", text: "Where is my order?", button_id: null },
    ]);

    sockets[0].receive({ type: "ack", client_id: "c-1", message_id: "m-9", conversation_id: "conv-2", duplicate: false });
    expect(client.messages[0]).toMatchObject({ id: "m-9", delivery_status: "sent", conversation_id: "conv-2" });
    expect(client.conversationId).toBe("conv-2");

    // The server's echo of the same message must not duplicate it.
    sockets[0].receive({
      type: "message",
      message: message({ id: "m-9", direction: "inbound", sender_type: "customer", text: "Where is my order?", client_id: "c-1", delivery_status: "delivered" }),
    });
    expect(client.messages).toHaveLength(1);
    sockets[0].receive({ type: "delivery", message_id: "m-9", delivery_status: "read" });
    expect(client.messages[0].delivery_status).toBe("read");
  });

  it("dedupes an echo that arrives before the ack", () => {
    const client = makeClient();
    client.connect();
    sockets[0].open();
    sockets[0].receive(welcome());
    client.sendText("Hi");
    sockets[0].receive({
      type: "message",
      message: message({ id: "m-5", direction: "inbound", sender_type: "customer", text: "Hi", client_id: "c-1", delivery_status: "sent" }),
    });
    sockets[0].receive({ type: "ack", client_id: "c-1", message_id: "m-5", conversation_id: "conv-1", duplicate: false });
    expect(client.messages.map((m) => m.id)).toEqual(["m-5"]);
  });

  it("keeps messages typed while offline and sends them with the same client_id after reconnecting", () => {
    const client = makeClient();
    client.connect();
    sockets[0].open();
    sockets[0].receive(welcome({ visitor_token: "tok" }));
    sockets[0].drop(1006);

    client.sendText("Are you there?");
    expect(client.messages[0].delivery_status).toBe("sending");
    vi.advanceTimersByTime(1000);
    sockets[1].open();
    // Nothing but hello goes out before the server has welcomed us.
    expect(sockets[1].sent.map((f) => f.type)).toEqual(["hello"]);
    sockets[1].receive(welcome({ visitor_token: "tok", resumed: true }));
    expect(sockets[1].framesOf("message")).toEqual([
      { type: "message", client_id: "c-1", text: "Are you there?", button_id: null },
    ]);
    sockets[1].receive({ type: "ack", client_id: "c-1", message_id: "m-3", conversation_id: "conv-1", duplicate: true });
    // Acknowledged messages are not re-sent after the next reconnect.
    sockets[1].drop(1006);
    vi.advanceTimersByTime(1000);
    sockets[2].open();
    sockets[2].receive(welcome({ visitor_token: "tok", resumed: true }));
    expect(sockets[2].framesOf("message")).toEqual([]);
  });

  it("marks a message failed when the server rejects it, and retries rate-limited ones", () => {
    const client = makeClient();
    client.connect();
    sockets[0].open();
    sockets[0].receive(welcome());
    client.sendText("x".repeat(10));
    sockets[0].receive({ type: "error", code: "invalid_frame", detail: "text: too long", client_id: "c-1" });
    expect(client.messages[0].delivery_status).toBe("failed");

    client.sendText("second");
    sockets[0].receive({ type: "error", code: "rate_limited", detail: "slow down", client_id: "c-2" });
    expect(sockets[0].framesOf("message")).toHaveLength(2);
    vi.advanceTimersByTime(2000);
    expect(sockets[0].framesOf("message")).toHaveLength(3);
    expect(sockets[0].framesOf("message")[2]).toMatchObject({ client_id: "c-2" });
  });

  it("sends quick-reply clicks with their button id", () => {
    const client = makeClient();
    client.connect();
    sockets[0].open();
    sockets[0].receive(welcome());
    client.sendText("Track my order", "track");
    expect(sockets[0].framesOf("message")[0]).toEqual({
      type: "message",
      client_id: "c-1",
      text: "Track my order",
      button_id: "track",
    });
  });

  it("relays typing from the server and throttles the visitor's typing frames", () => {
    const typing: [string, boolean][] = [];
    const client = makeClient();
    client.subscribe({ typing: (sender, isTyping) => typing.push([sender, isTyping]) });
    client.connect();
    sockets[0].open();
    sockets[0].receive(welcome());
    sockets[0].receive({ type: "typing", sender_type: "agent", is_typing: true });
    expect(typing).toEqual([["agent", true]]);

    client.sendTyping(true);
    client.sendTyping(true);
    vi.advanceTimersByTime(1000);
    client.sendTyping(true);
    expect(sockets[0].framesOf("typing")).toEqual([{ type: "typing", is_typing: true }]);
    vi.advanceTimersByTime(1500);
    client.sendTyping(true);
    expect(sockets[0].framesOf("typing")).toHaveLength(2);
    client.sendTyping(false);
    client.sendTyping(false);
    expect(sockets[0].framesOf("typing")).toEqual([
      { type: "typing", is_typing: true },
      { type: "typing", is_typing: true },
      { type: "typing", is_typing: false },
    ]);
  });

  it("marks the newest outbound message read once", () => {
    const client = makeClient();
    client.connect();
    sockets[0].open();
    sockets[0].receive(welcome({ history: [message({ id: "m-1", delivery_status: "delivered" })] }));
    client.markRead();
    client.markRead();
    expect(sockets[0].framesOf("read")).toEqual([{ type: "read", message_id: "m-1" }]);
    sockets[0].receive({ type: "message", message: message({ id: "m-2", text: "Anything else?", created_at: "2026-11-21T01:05:00+00:00" }) });
    client.markRead();
    expect(sockets[0].framesOf("read")).toEqual([
      { type: "read", message_id: "m-1" },
      { type: "read", message_id: "m-2" },
    ]);
  });

  it("tracks conversation status changes and pings to keep the socket alive", () => {
    const statuses: (string | null)[] = [];
    const client = makeClient();
    client.subscribe({ conversation: (_id, status) => statuses.push(status) });
    client.connect();
    sockets[0].open();
    sockets[0].receive(welcome({ conversation_id: "conv-1", conversation_status: "bot" }));
    sockets[0].receive({ type: "conversation", conversation_id: "conv-1", status: "pending_human" });
    expect(statuses).toEqual(["bot", "pending_human"]);
    vi.advanceTimersByTime(25000);
    expect(sockets[0].framesOf("ping")).toHaveLength(1);
    client.disconnect();
    vi.advanceTimersByTime(100000);
    expect(sockets[0].framesOf("ping")).toHaveLength(1);
    expect(sockets).toHaveLength(1);
  });

  it("forgets the previous visitor's messages when the server starts a new visitor", () => {
    const client = makeClient();
    client.connect();
    sockets[0].open();
    sockets[0].receive(welcome({ resumed: true, history: [message({ id: "m-1" })] }));
    sockets[0].drop(1006);
    vi.advanceTimersByTime(1000);
    sockets[1].open();
    sockets[1].receive(welcome({ visitor_token: "token-2", resumed: false }));
    expect(client.messages).toEqual([]);
    expect(storage.getItem(tokenStorageKey("demo-widget"))).toBe("token-2");
  });

  it("ignores malformed frames", () => {
    const client = makeClient();
    client.connect();
    sockets[0].open();
    sockets[0].onmessage?.({ data: "not json" });
    sockets[0].onmessage?.({ data: JSON.stringify([1, 2]) });
    expect(client.state).toBe("connecting");
  });
});
