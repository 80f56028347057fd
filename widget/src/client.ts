// The protocol client: one websocket to /ws/webchat/<key>/, resumed with the stored visitor token,
// reconnected with exponential backoff, with an outbox so nothing typed offline is lost.
import {
  type ChatMessage,
  type ClientFrame,
  type ServerFrame,
  type WelcomeFrame,
  FATAL_CLOSE_CODES,
  parseFrame,
} from "./protocol";

export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "failed";

/** What the client needs from `WebSocket`; tests pass a fake. */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason?: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface ClientListener {
  state?(state: ConnectionState, detail?: string): void;
  messages?(messages: readonly ChatMessage[]): void;
  welcome?(frame: WelcomeFrame): void;
  typing?(senderType: string, isTyping: boolean): void;
  conversation?(conversationId: string | null, status: string | null): void;
  error?(code: string, detail: string): void;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0..1: each delay is scaled by a random factor in [1 - jitter, 1]. */
  jitter: number;
}

export interface ClientOptions {
  url: string;
  widgetKey: string;
  storage: StorageLike | null;
  socketFactory?: SocketFactory;
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
  locale?: string;
  pingIntervalMs?: number;
  newId?: () => string;
  /** REST fallback base, e.g. https://host/api/v1/webchat/<key>/ ; unset: websocket only. */
  restBase?: string;
  fetchImpl?: typeof fetch;
  /** Sockets that fail before any welcome; after this many the client polls over REST instead. */
  fallbackAfterFailures?: number;
  pollIntervalMs?: number;
}

export type Transport = "websocket" | "rest";

const OPEN = 1;
const TYPING_THROTTLE_MS = 2000;
const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30000, jitter: 0.2 };

/** Delay before reconnect attempt `attempt` (0-based): 1 s, 2 s, 4 s … capped, with jitter below the cap. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 - options.jitter * random()));
}

export function tokenStorageKey(widgetKey: string): string {
  return `parley:${widgetKey}:visitor_token`;
}

function randomId(): string {
  const bytes = new Uint8Array(12);
  (globalThis.crypto ?? { getRandomValues: (a: Uint8Array) => a.map(() => Math.floor(Math.random() * 256)) })
    .getRandomValues(bytes);
  return "c-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class WebChatClient {
  private socket: SocketLike | null = null;
  private stateValue: ConnectionState = "idle";
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private welcomed = false;
  private stopped = false;
  private list: ChatMessage[] = [];
  /** client_id → text/button of messages not yet acknowledged; re-sent after every welcome. */
  private outbox = new Map<string, { text: string; buttonId: string | null }>();
  private lastTypingSentAt = 0;
  private typingSent = false;
  private lastReadId: string | null = null;
  private transportValue: Transport = "websocket";
  private failuresBeforeWelcome = 0;
  private everWelcomed = false;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private polling = false;
  private readonly listeners = new Set<ClientListener>();
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private readonly socketFactory: SocketFactory;
  private readonly newId: () => string;
  conversationId: string | null = null;
  conversationStatus: string | null = null;
  /** From the last welcome: who the server recognised, and whether it resumed a stored token. */
  visitorId: string | null = null;
  resumed = false;

  constructor(private readonly options: ClientOptions) {
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.newId = options.newId ?? randomId;
    this.socketFactory = options.socketFactory ?? ((url) => new WebSocket(url) as unknown as SocketLike);
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get messages(): readonly ChatMessage[] {
    return this.list;
  }

  get transport(): Transport {
    return this.transportValue;
  }

  get token(): string | null {
    return this.readStorage();
  }

  subscribe(listener: ClientListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Open the socket (no-op when already connecting or open). */
  connect(): void {
    this.stopped = false;
    if (this.transportValue === "rest") {
      if (!this.welcomed && !this.polling) void this.restStart();
      return;
    }
    if (this.socket || this.stateValue === "failed") return;
    this.clearReconnect();
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let socket: SocketLike;
    try {
      socket = this.socketFactory(this.options.url);
    } catch (error) {
      this.scheduleReconnect(String(error));
      return;
    }
    this.socket = socket;
    socket.onopen = () => this.sendHello();
    socket.onmessage = (event) => {
      const frame = parseFrame(event.data);
      if (frame) this.handleFrame(frame);
    };
    socket.onerror = () => undefined; // every error is followed by a close event
    socket.onclose = (event) => this.handleClose(socket, event.code, event.reason ?? "");
  }

  /** Close for good (page unload, widget removed). */
  disconnect(): void {
    this.stopped = true;
    this.clearReconnect();
    this.stopPing();
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    const socket = this.socket;
    this.socket = null;
    this.welcomed = false;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, "bye");
    }
    this.setState("idle");
  }

  /** Queue a visitor message; it shows at once as "sending" and is (re)sent until acknowledged. */
  sendText(text: string, buttonId: string | null = null): string | null {
    const trimmed = text.trim();
    if (!trimmed) return null;
    const clientId = this.newId();
    this.outbox.set(clientId, { text: trimmed.slice(0, 4000), buttonId });
    this.upsert({
      id: `local:${clientId}`,
      conversation_id: this.conversationId ?? "",
      direction: "inbound",
      sender_type: "customer",
      sender_name: "",
      text: trimmed.slice(0, 4000),
      buttons: [],
      attachments: [],
      // With a configuration error (unknown widget, origin refused) it can never be sent.
      delivery_status: this.stateValue === "failed" ? "failed" : "sending",
      client_id: clientId,
      created_at: new Date().toISOString(),
    });
    if (this.stateValue === "failed") {
      this.outbox.delete(clientId);
      return clientId;
    }
    this.flushOne(clientId);
    if (this.typingSent) this.sendTyping(false);
    if (!this.socket) this.connect();
    return clientId;
  }

  /** Report the visitor typing; throttled to one `true` per 2 s, `false` sent once when they stop. */
  sendTyping(isTyping: boolean): void {
    if (!this.welcomed) return;
    const now = Date.now();
    if (isTyping) {
      if (this.typingSent && now - this.lastTypingSentAt < TYPING_THROTTLE_MS) return;
      this.lastTypingSentAt = now;
      this.typingSent = true;
      this.send({ type: "typing", is_typing: true });
    } else if (this.typingSent) {
      this.typingSent = false;
      this.send({ type: "typing", is_typing: false });
    }
  }

  /** Mark every outbound message up to the newest as read (the visitor has the chat open). */
  markRead(): void {
    if (!this.welcomed) return;
    const newest = [...this.list]
      .reverse()
      .find((m) => m.direction === "outbound" && !m.id.startsWith("local:"));
    if (!newest || newest.id === this.lastReadId || newest.delivery_status === "read") return;
    this.lastReadId = newest.id;
    this.send({ type: "read", message_id: newest.id });
  }

  private readStorage(): string | null {
    try {
      return this.options.storage?.getItem(tokenStorageKey(this.options.widgetKey)) ?? null;
    } catch {
      return null; // storage blocked (third-party context, privacy mode)
    }
  }

  private writeStorage(token: string): void {
    try {
      this.options.storage?.setItem(tokenStorageKey(this.options.widgetKey), token);
    } catch {
      // Without storage the visitor simply starts over on the next page load.
    }
  }

  private sendHello(): void {
    const newest = [...this.list].reverse().find((m) => !m.id.startsWith("local:"));
    const hello: ClientFrame = { type: "hello", visitor_token: this.readStorage() };
    if (this.options.locale) hello.locale = this.options.locale;
    if (newest) hello.after_message_id = newest.id;
    this.send(hello, true);
  }

  private send(frame: ClientFrame, beforeWelcome = false): boolean {
    if (this.transportValue === "rest") {
      if (!this.welcomed) return false;
      if (frame.type === "message") void this.restMessage(frame.client_id, frame.text, frame.button_id);
      else if (frame.type === "read") void this.rest("POST", "read/", { message_id: frame.message_id });
      return frame.type === "message" || frame.type === "read"; // typing and ping have no REST form
    }
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN || (!this.welcomed && !beforeWelcome)) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  private flushOne(clientId: string): void {
    const item = this.outbox.get(clientId);
    if (item) this.send({ type: "message", client_id: clientId, text: item.text, button_id: item.buttonId });
  }

  private handleFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "welcome":
        this.onWelcome(frame);
        break;
      case "message":
        this.upsert(frame.message);
        break;
      case "ack": {
        this.outbox.delete(frame.client_id);
        const local = this.list.find((m) => m.client_id === frame.client_id);
        if (local) {
          const replacement = { ...local, id: frame.message_id, conversation_id: frame.conversation_id };
          if (replacement.delivery_status === "sending") replacement.delivery_status = "sent";
          this.list = this.list
            .filter((m) => m === local || m.id !== frame.message_id)
            .map((m) => (m === local ? replacement : m));
          this.emitMessages();
        }
        this.setConversation(frame.conversation_id, this.conversationStatus);
        break;
      }
      case "delivery":
        this.patch(frame.message_id, { delivery_status: frame.delivery_status });
        break;
      case "typing":
        for (const listener of this.listeners) listener.typing?.(frame.sender_type, frame.is_typing);
        break;
      case "conversation":
        this.setConversation(frame.conversation_id, frame.status);
        break;
      case "error":
        this.onError(frame.code, frame.detail ?? "", frame.client_id);
        break;
      default:
        break;
    }
  }

  private onWelcome(frame: WelcomeFrame): void {
    if (frame.visitor_token) this.writeStorage(frame.visitor_token);
    this.visitorId = frame.visitor_id ?? null;
    this.resumed = !!frame.resumed;
    if (!frame.resumed) {
      // A new visitor: whatever we showed belonged to the old one; unsent messages still go out.
      this.list = this.list.filter((m) => m.client_id !== null && this.outbox.has(m.client_id));
    }
    this.welcomed = true;
    this.everWelcomed = true;
    this.failuresBeforeWelcome = 0;
    this.attempt = 0;
    for (const message of frame.history ?? []) this.upsert(message, false);
    this.emitMessages();
    this.setConversation(frame.conversation_id, frame.conversation_status);
    for (const listener of this.listeners) listener.welcome?.(frame);
    this.setState("open");
    this.startPing();
    for (const clientId of this.outbox.keys()) this.flushOne(clientId);
  }

  private onError(code: string, detail: string, clientId?: string): void {
    if (clientId && code !== "rate_limited") {
      // The server refused this message for good: show it as failed instead of retrying forever.
      this.outbox.delete(clientId);
      const local = this.list.find((m) => m.client_id === clientId);
      if (local) this.patch(local.id, { delivery_status: "failed" });
    } else if (clientId) {
      const retry = clientId;
      setTimeout(() => this.flushOne(retry), backoffDelay(1, this.backoff, this.random));
    }
    if (code === "unknown_widget" || code === "origin_not_allowed") this.setState("failed", code);
    for (const listener of this.listeners) listener.error?.(code, detail);
  }

  private handleClose(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.welcomed = false;
    this.typingSent = false;
    this.stopPing();
    if (this.stopped) return;
    if (FATAL_CLOSE_CODES.has(code)) {
      this.setState("failed", reason || `closed ${code}`);
      return;
    }
    if (!this.everWelcomed) this.failuresBeforeWelcome += 1;
    if (this.options.restBase && this.failuresBeforeWelcome >= (this.options.fallbackAfterFailures ?? 3)) {
      // Websockets never worked from here (a proxy, a firewall): poll the REST fallback instead.
      this.transportValue = "rest";
      this.attempt = 0;
      void this.restStart();
      return;
    }
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(detail: string): void {
    this.socket = null;
    const delay = backoffDelay(this.attempt, this.backoff, this.random);
    this.attempt += 1;
    this.setState("reconnecting", detail);
    this.clearReconnect();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  /** Reconnect now (the browser came back online or the tab became visible). */
  retryNow(): void {
    if (this.transportValue === "rest") {
      if (this.welcomed) this.schedulePoll(0);
      else if (this.reconnectTimer) {
        this.clearReconnect();
        void this.restStart();
      }
      return;
    }
    if (this.stateValue === "reconnecting" && this.reconnectTimer) {
      this.clearReconnect();
      this.connect();
    }
  }

  /** One REST call; resolves to [status, body] or null when the network failed. */
  private async rest(method: "GET" | "POST", path: string, body?: unknown): Promise<[number, Record<string, unknown>] | null> {
    const fetchImpl = this.options.fetchImpl ?? globalThis.fetch.bind(globalThis);
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    const token = this.readStorage();
    if (token) headers["X-Parley-Visitor-Token"] = token;
    try {
      const response = await fetchImpl(this.options.restBase + path, {
        method,
        headers,
        credentials: "omit",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return [response.status, text ? (JSON.parse(text) as Record<string, unknown>) : {}];
    } catch {
      return null;
    }
  }

  private async restStart(): Promise<void> {
    if (this.stopped || this.polling) return;
    this.polling = true;
    this.setState(this.everWelcomed ? "reconnecting" : "connecting");
    try {
      const hello: Record<string, unknown> = { visitor_token: this.readStorage() };
      if (this.options.locale) hello.locale = this.options.locale;
      const session = await this.rest("POST", "session/", hello);
      if (session && (session[0] === 404 || session[0] === 403)) {
        const code = String(session[1].code ?? (session[0] === 404 ? "unknown_widget" : "origin_not_allowed"));
        this.onError(code, String(session[1].detail ?? ""));
        this.setState("failed", code);
        return;
      }
      if (!session || session[0] !== 200) throw new Error("session failed");
      if (session[1].visitor_token) this.writeStorage(String(session[1].visitor_token));
      const resumed = !!session[1].resumed;
      const newest = resumed ? this.newestServerId() : null;
      const page = await this.rest("GET", `messages/${newest ? `?after=${encodeURIComponent(newest)}` : ""}`);
      if (!page || page[0] !== 200) throw new Error("history failed");
      this.onWelcome({
        ...(session[1] as unknown as WelcomeFrame),
        type: "welcome",
        history: (page[1].messages as ChatMessage[] | undefined) ?? [],
      });
      this.schedulePoll(this.options.pollIntervalMs ?? 3000);
    } catch {
      const delay = backoffDelay(this.attempt, this.backoff, this.random);
      this.attempt += 1;
      this.setState("reconnecting", "offline");
      this.clearReconnect();
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        void this.restStart();
      }, delay);
    } finally {
      this.polling = false;
    }
  }

  private schedulePoll(delayMs: number): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    this.pollTimer = null;
    if (this.stopped) return;
    const newest = this.newestServerId();
    const page = await this.rest("GET", `messages/${newest ? `?after=${encodeURIComponent(newest)}` : ""}`);
    if (page && page[0] === 401) {
      // The token stopped being valid: start a new session (and a new visitor).
      this.welcomed = false;
      void this.restStart();
      return;
    }
    if (page && page[0] === 200) {
      if (this.stateValue !== "open") this.setState("open");
      for (const message of (page[1].messages as ChatMessage[] | undefined) ?? []) this.upsert(message);
      const conversationId = (page[1].conversation_id as string | null | undefined) ?? this.conversationId;
      this.setConversation(conversationId, (page[1].conversation_status as string | null | undefined) ?? this.conversationStatus);
      for (const clientId of this.outbox.keys()) this.flushOne(clientId);
    } else {
      this.setState("reconnecting", "offline");
    }
    const hidden = typeof document !== "undefined" && document.visibilityState === "hidden";
    this.schedulePoll((this.options.pollIntervalMs ?? 3000) * (hidden ? 5 : 1));
  }

  private async restMessage(clientId: string, text: string, buttonId: string | null): Promise<void> {
    const result = await this.rest("POST", "messages/", { client_id: clientId, text, button_id: buttonId });
    if (!result) return; // offline: stays in the outbox, re-sent on the next poll
    const [status, body] = result;
    if (status === 200 || status === 201) {
      this.handleFrame({ ...(body.ack as object), type: "ack" } as ServerFrame);
      if (body.message) this.handleFrame({ type: "message", message: body.message as ChatMessage });
    } else if (status === 401) {
      this.welcomed = false;
      void this.restStart();
    } else if (status === 429 || status >= 500) {
      this.onError("rate_limited", String(body.detail ?? ""), clientId);
    } else {
      this.onError(String(body.code ?? "invalid_frame"), String(body.detail ?? ""), clientId);
    }
  }

  private newestServerId(): string | null {
    return [...this.list].reverse().find((m) => !m.id.startsWith("local:"))?.id ?? null;
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private startPing(): void {
    this.stopPing();
    this.pingTimer = setInterval(() => this.send({ type: "ping" }), this.options.pingIntervalMs ?? 25000);
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private upsert(message: ChatMessage, emit = true): void {
    const index = this.list.findIndex(
      (m) => m.id === message.id || (message.client_id !== null && m.client_id === message.client_id),
    );
    if (index >= 0) {
      const previous = this.list[index];
      const merged = { ...previous, ...message };
      // A late echo must not move a message back from read/delivered to an earlier state.
      if (rank(previous.delivery_status) > rank(message.delivery_status)) {
        merged.delivery_status = previous.delivery_status;
      }
      this.list = this.list.map((m, i) => (i === index ? merged : m)).sort(byTime);
      if (message.client_id && !message.id.startsWith("local:")) this.outbox.delete(message.client_id);
    } else {
      this.list = [...this.list, message].sort(byTime);
    }
    if (emit) this.emitMessages();
  }

  private patch(id: string, changes: Partial<ChatMessage>): void {
    if (!this.list.some((m) => m.id === id)) return;
    this.list = this.list.map((m) => (m.id === id ? { ...m, ...changes } : m));
    this.emitMessages();
  }

  private setConversation(id: string | null, status: string | null): void {
    if (id === this.conversationId && status === this.conversationStatus) return;
    this.conversationId = id;
    this.conversationStatus = status;
    for (const listener of this.listeners) listener.conversation?.(id, status);
  }

  private emitMessages(): void {
    for (const listener of this.listeners) listener.messages?.(this.list);
  }

  private setState(state: ConnectionState, detail?: string): void {
    if (state === this.stateValue && detail === undefined) return;
    this.stateValue = state;
    for (const listener of this.listeners) listener.state?.(state, detail);
  }
}

const STATUS_RANK: Record<string, number> = { failed: 0, queued: 1, sending: 1, sent: 2, delivered: 3, read: 4 };

function rank(status: string): number {
  return STATUS_RANK[status] ?? 0;
}

function byTime(a: ChatMessage, b: ChatMessage): number {
  return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0;
}
