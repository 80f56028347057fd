/**
 * Applies an `/ws/inbox/` event to the TanStack Query cache so every open view updates without a
 * reload. Events carry the same shapes as the REST serializers.
 */
import type { QueryClient } from "@tanstack/react-query";
import type { Conversation, Message, Page } from "../api/client";
import { type InboxFilters, matchesFilters, sortKey } from "../lib/inboxFilters";
import { applyTyping, type TypingEvent } from "./typing";

export type InboxEvent =
  | { type: "hello"; tenant_id: string; role: string }
  | { type: "pong" }
  | { type: "conversation.created" | "conversation.updated"; tenant_id: string; conversation: Conversation }
  | { type: "message.created" | "message.updated"; tenant_id: string; conversation_id: string; message: Message }
  | { type: "typing"; tenant_id: string; conversation_id: string; sender_type: string; sender_name?: string; is_typing: boolean }
  | { type: string; [key: string]: unknown };

export const keys = {
  conversations: (filters: InboxFilters) => ["conversations", filters] as const,
  conversationLists: ["conversations"] as const,
  conversation: (id: string) => ["conversation", id] as const,
  messages: (id: string) => ["messages", id] as const,
};

function upsertConversation(page: Page<Conversation>, conversation: Conversation, filters: InboxFilters): Page<Conversation> {
  const index = page.results.findIndex((item) => item.id === conversation.id);
  const belongs = matchesFilters(conversation, filters);
  let results = page.results;
  let count = page.count;
  if (index >= 0 && !belongs) {
    results = results.filter((item) => item.id !== conversation.id);
    count -= 1;
  } else if (index >= 0) {
    results = results.map((item) => (item.id === conversation.id ? conversation : item));
  } else if (belongs) {
    results = [conversation, ...results];
    count += 1;
  } else {
    return page;
  }
  results = [...results].sort((a, b) => sortKey(b).localeCompare(sortKey(a)));
  return { ...page, count, results };
}

export function applyEvent(client: QueryClient, event: InboxEvent): void {
  if (event.type === "conversation.created" || event.type === "conversation.updated") {
    const conversation = (event as { conversation: Conversation }).conversation;
    for (const [key, data] of client.getQueriesData<Page<Conversation>>({ queryKey: keys.conversationLists })) {
      // A list being fetched may have been read before this change, and its answer would overwrite
      // the event: it is fetched again once that fetch ends.
      const query = client.getQueryCache().find<Page<Conversation>>({ queryKey: key, exact: true });
      if (query?.state.fetchStatus === "fetching" && query.promise) {
        const refetch = () => client.invalidateQueries({ queryKey: key, exact: true });
        void query.promise.then(refetch, refetch);
      }
      if (!data) continue;
      const filters = (key[1] ?? {}) as InboxFilters;
      client.setQueryData(key, upsertConversation(data, conversation, filters));
    }
    client.setQueryData(keys.conversation(conversation.id), conversation);
    return;
  }
  if (event.type === "typing") {
    applyTyping(client, event as TypingEvent);
    return;
  }
  if (event.type === "suggestion.created" || event.type.startsWith("pending_action.")) {
    // Side panels refetch their optional endpoints for this conversation.
    void client.invalidateQueries({ queryKey: ["optional"] });
    return;
  }
  if (event.type === "message.created" || event.type === "message.updated") {
    const { conversation_id: conversationId, message } = event as { conversation_id: string; message: Message };
    client.setQueryData<Page<Message>>(keys.messages(conversationId), (page) => {
      if (!page) return page;
      const exists = page.results.some((item) => item.id === message.id);
      if (exists) return { ...page, results: page.results.map((item) => (item.id === message.id ? message : item)) };
      if (event.type === "message.updated") return page;
      return { ...page, count: page.count + 1, results: [...page.results, message] };
    });
  }
}
