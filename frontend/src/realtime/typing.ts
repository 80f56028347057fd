/**
 * Typing indicators. `/ws/inbox/` delivers `typing` events (customer, agent, assistant); they are
 * kept in the query cache under `["typing", conversationId]` and expire on their own, since a
 * "stopped typing" can be lost. The composer reports the agent's typing through `TypingNotifier`.
 */
import { type QueryClient, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";

export interface Typist {
  sender_type: string;
  sender_name: string;
  until: number;
}

export type TypingState = Record<string, Typist>;

/** How long a "typing" lasts without a refresh (the widget refreshes every 2 s while typing). */
export const TYPING_TTL_MS = 6_000;
/** The assistant sends one "typing" per turn; a long LLM turn keeps it up to this long. */
export const ASSISTANT_TYPING_TTL_MS = 60_000;

export const typingKey = (conversationId: string) => ["typing", conversationId] as const;

export interface TypingEvent {
  type: "typing";
  conversation_id: string;
  sender_type: string;
  sender_name?: string;
  is_typing: boolean;
}

export function applyTyping(client: QueryClient, event: TypingEvent, now = Date.now()): void {
  const id = `${event.sender_type}:${event.sender_name ?? ""}`;
  client.setQueryData<TypingState>(typingKey(event.conversation_id), (old) => {
    const next: TypingState = {};
    for (const [key, typist] of Object.entries(old ?? {})) if (typist.until > now && key !== id) next[key] = typist;
    if (event.is_typing) {
      const ttl = event.sender_type === "assistant" ? ASSISTANT_TYPING_TTL_MS : TYPING_TTL_MS;
      next[id] = { sender_type: event.sender_type, sender_name: event.sender_name ?? "", until: now + ttl };
    }
    return next;
  });
}

/** Who is typing in a conversation right now; `ignoreAgent` hides the current agent's own typing. */
export function useTyping(conversationId: string, ignoreAgent = ""): Typist[] {
  const client = useQueryClient();
  // Only events write this entry: the "fetch" returns what is cached, so it can never wipe an event.
  const state = useQuery<TypingState>({
    queryKey: typingKey(conversationId),
    queryFn: () => client.getQueryData<TypingState>(typingKey(conversationId)) ?? {},
    initialData: {},
    staleTime: Infinity,
    gcTime: 60_000,
  });
  const [now, setNow] = useState(() => Date.now());
  const typists = Object.values(state.data ?? {}).filter(
    (t) => t.until > now && !(t.sender_type === "agent" && ignoreAgent && t.sender_name === ignoreAgent),
  );
  const nextExpiry = Math.min(...typists.map((t) => t.until));
  useEffect(() => {
    if (!Number.isFinite(nextExpiry)) return;
    const timer = setTimeout(() => setNow(Date.now()), Math.max(0, nextExpiry - Date.now()) + 10);
    return () => clearTimeout(timer);
  }, [nextExpiry]);
  useEffect(() => setNow(Date.now()), [state.data]);
  return typists;
}

export function describeTyping(typists: Typist[], customerName: string): string {
  if (!typists.length) return "";
  const names = typists.map((t) =>
    t.sender_type === "customer"
      ? customerName || "The customer"
      : t.sender_type === "assistant"
        ? "The assistant"
        : t.sender_name || "Another agent",
  );
  return `${names.join(" and ")} ${names.length > 1 ? "are" : "is"} typing…`;
}

/**
 * Turns composer edits into throttled typing frames: "typing" at most once per `throttleMs` while
 * the text changes, "stopped" when the text is emptied, sent, after `idleMs` without edits, or on
 * `stop()` (leaving the conversation).
 */
export class TypingNotifier {
  private typing = false;
  private lastSentAt = 0;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly send: (isTyping: boolean) => void,
    private readonly throttleMs = 3_000,
    private readonly idleMs = 5_000,
  ) {}

  update(text: string): void {
    clearTimeout(this.idleTimer);
    if (!text.trim()) {
      this.stop();
      return;
    }
    const now = Date.now();
    if (!this.typing || now - this.lastSentAt >= this.throttleMs) {
      this.typing = true;
      this.lastSentAt = now;
      this.send(true);
    }
    this.idleTimer = setTimeout(() => this.stop(), this.idleMs);
  }

  stop(): void {
    clearTimeout(this.idleTimer);
    if (!this.typing) return;
    this.typing = false;
    this.send(false);
  }
}
