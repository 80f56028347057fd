import type { Conversation } from "../api/client";

/** Inbox filters; they map 1:1 onto the conversation list's query parameters. */
export interface InboxFilters {
  status?: string; // one status, or "" for every status
  channel_type?: string;
  assignee?: string; // a user id, or "me" resolved by the caller
  unassigned?: boolean;
  team?: string;
  label?: string;
  priority?: string;
  unread?: boolean;
}

/** What the inbox reads from an empty query string (keep in sync with readFilters in Inbox.tsx). */
export const INBOX_DEFAULT_FILTERS: InboxFilters = {
  status: "",
  channel_type: "",
  assignee: "",
  unassigned: undefined,
  team: "",
  label: "",
  priority: "",
  unread: undefined,
};

export const STATUSES = [
  ["open", "Open"],
  ["bot", "With the assistant"],
  ["pending_human", "Waiting for a human"],
  ["assigned", "Assigned"],
  ["resolved", "Resolved"],
  ["closed", "Closed"],
] as const;

export const PRIORITIES = ["low", "normal", "high", "urgent"] as const;

export function filtersToParams(filters: InboxFilters): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(filters)) {
    if (value === undefined || value === "" || value === false) continue;
    params[key] = String(value);
  }
  return params;
}

/** Does a conversation belong in a list with these filters? Used to place live events. */
export function matchesFilters(conversation: Conversation, filters: InboxFilters): boolean {
  if (filters.status && conversation.status !== filters.status) return false;
  if (filters.channel_type && conversation.channel_type !== filters.channel_type) return false;
  if (filters.assignee && conversation.assignee !== filters.assignee) return false;
  if (filters.unassigned && conversation.assignee) return false;
  if (filters.team && conversation.team !== filters.team) return false;
  if (filters.label && !labelsOf(conversation).includes(filters.label)) return false;
  if (filters.priority && conversation.priority !== filters.priority) return false;
  if (filters.unread && !(conversation.unread_count > 0)) return false;
  return true;
}

export function sortKey(conversation: Conversation): string {
  return conversation.last_message_at ?? conversation.updated_at ?? conversation.created_at;
}

export function labelsOf(conversation: Pick<Conversation, "labels">): string[] {
  return Array.isArray(conversation.labels) ? (conversation.labels as unknown[]).map(String) : [];
}
