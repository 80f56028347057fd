import { useMutation, useQuery, useQueryClient, type UseQueryOptions } from "@tanstack/react-query";
import type { InboxFilters } from "../lib/inboxFilters";
import { filtersToParams } from "../lib/inboxFilters";
import { keys } from "../realtime/applyEvent";
import { api, type Conversation, type Me, type Message, type Page, request, unwrap } from "./client";

export function useMe() {
  return useQuery({
    queryKey: ["me"],
    queryFn: async (): Promise<Me> => unwrap(await api.GET("/api/v1/auth/me/")),
    retry: false,
    staleTime: 60_000,
  });
}

export function fetchConversations(filters: InboxFilters, pageSize = 100): Promise<Page<Conversation>> {
  return request<Page<Conversation>>(
    `/api/v1/conversations/?${new URLSearchParams({ ...filtersToParams(filters), page_size: String(pageSize) })}`,
  );
}

export function useConversations(filters: InboxFilters, pageSize = 100) {
  return useQuery({
    queryKey: keys.conversations(filters),
    queryFn: () => fetchConversations(filters, pageSize),
  });
}

/** Conversations waiting for a human (the handover queue). */
export function useQueue() {
  return useConversations({ status: "pending_human" }, 100);
}

export function useConversation(id: string | undefined) {
  return useQuery({
    queryKey: keys.conversation(id ?? ""),
    enabled: Boolean(id),
    queryFn: async (): Promise<Conversation> =>
      unwrap(await api.GET("/api/v1/conversations/{id}/", { params: { path: { id: id ?? "" } } })),
  });
}

export function useMessages(id: string | undefined) {
  return useQuery({
    queryKey: keys.messages(id ?? ""),
    enabled: Boolean(id),
    queryFn: async () => request<Page<Message>>(`/api/v1/conversations/${id}/messages/?page_size=500`),
  });
}

export function useUpdateConversation(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (changes: Record<string, unknown>) =>
      request<Conversation>(`/api/v1/conversations/${id}/`, { method: "PATCH", json: changes }),
    onSuccess: (conversation) => {
      client.setQueryData(keys.conversation(id), conversation);
      void client.invalidateQueries({ queryKey: keys.conversationLists });
    },
  });
}

export function useReply(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: { text: string; is_private: boolean }) =>
      request<Message>(`/api/v1/conversations/${id}/messages/`, { method: "POST", json: body }),
    onSuccess: (message) => {
      client.setQueryData<Page<Message>>(keys.messages(id), (page) =>
        page && !page.results.some((m) => m.id === message.id)
          ? { ...page, count: page.count + 1, results: [...page.results, message] }
          : page,
      );
    },
  });
}

/**
 * A GET against an endpoint that may not exist on this server yet. `error.notAvailable` tells the
 * page to show its "not available yet" state instead of a failure.
 */
export function useOptionalApi<T>(path: string | null, options: Partial<UseQueryOptions<T>> = {}) {
  return useQuery<T>({
    queryKey: ["optional", path],
    enabled: path !== null,
    queryFn: () => request<T>(path ?? ""),
    retry: (count, error) => !(error as { notAvailable?: boolean }).notAvailable && count < 2,
    ...options,
  });
}
