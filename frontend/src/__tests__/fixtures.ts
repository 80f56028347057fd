import type { Conversation, Message, Page } from "../api/client";

export function conversation(overrides: Partial<Conversation> = {}): Conversation {
  return {
    id: "c1",
    status: "bot",
    priority: "normal",
    labels: [],
    team: "",
    subject: "",
    language: "en",
    source: "live",
    channel: "ch1",
    channel_type: "webchat",
    channel_name: "Website chat",
    customer: { id: "cu1", name: "Maria Lopez", email: "", phone: "" },
    assistant: null,
    assignee: null,
    assignee_email: "",
    unread_count: 0,
    message_count: 1,
    last_message_preview: "hello",
    created_at: "2026-01-01T10:00:00Z",
    updated_at: "2026-01-01T10:00:00Z",
    last_message_at: "2026-01-01T10:00:00Z",
    first_response_at: null,
    handed_over_at: null,
    assigned_at: null,
    resolved_at: null,
    closed_at: null,
    ...overrides,
  } as Conversation;
}

export function message(overrides: Partial<Message> = {}): Message {
  return {
    id: "m1",
    conversation: "c1",
    direction: "inbound",
    sender_type: "customer",
    sender_user: null,
    sender_name: "",
    text: "hi",
    content_type: "text",
    is_private: false,
    delivery_status: "received",
    delivery_error: "",
    buttons: [],
    analysis: {},
    attachments: [],
    created_at: "2026-01-01T10:00:00Z",
    sent_at: null,
    delivered_at: null,
    read_at: null,
    ...overrides,
  } as Message;
}

export function page<T>(results: T[]): Page<T> {
  return { count: results.length, next: null, previous: null, results };
}
