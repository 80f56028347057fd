import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { describe, expect, it, vi } from "vitest";
import type { Conversation, Message, Page } from "../api/client";
import { applyEvent, keys } from "../realtime/applyEvent";
import { conversation, message, page } from "./fixtures";

function client() {
  return new QueryClient({ defaultOptions: { queries: { retry: false } } });
}

describe("applyEvent", () => {
  it("puts a new conversation at the top of every list whose filters it matches, and only those", () => {
    const qc = client();
    const old = conversation({ id: "old", last_message_at: "2026-01-01T09:00:00Z" });
    qc.setQueryData(keys.conversations({}), page([old]));
    qc.setQueryData(keys.conversations({ status: "pending_human" }), page<Conversation>([]));
    const fresh = conversation({ id: "new", last_message_at: "2026-01-01T11:00:00Z" });
    applyEvent(qc, { type: "conversation.created", tenant_id: "t", conversation: fresh });
    const all = qc.getQueryData<Page<Conversation>>(keys.conversations({}));
    expect(all?.results.map((c) => c.id)).toEqual(["new", "old"]);
    expect(all?.count).toBe(2);
    expect(qc.getQueryData<Page<Conversation>>(keys.conversations({ status: "pending_human" }))?.results).toEqual([]);
    expect(qc.getQueryData(keys.conversation("new"))).toEqual(fresh);
  });

  it("fetches a list again when a new conversation arrives while the list is still loading", async () => {
    const qc = client();
    const old = conversation({ id: "old", last_message_at: "2026-01-01T09:00:00Z" });
    const fresh = conversation({ id: "new", last_message_at: "2026-01-01T11:00:00Z" });
    let release: (value: Page<Conversation>) => void = () => undefined;
    let calls = 0;
    const observer = new QueryObserver(qc, {
      queryKey: keys.conversations({}),
      queryFn: () => {
        calls += 1;
        // the first answer was read before the new conversation existed; the next one has it
        return calls === 1 ? new Promise<Page<Conversation>>((resolve) => (release = resolve)) : Promise.resolve(page([fresh, old]));
      },
    });
    const unsubscribe = observer.subscribe(() => undefined);
    await Promise.resolve();
    applyEvent(qc, { type: "conversation.created", tenant_id: "t", conversation: fresh });
    release(page([old]));
    await vi.waitFor(() =>
      expect(qc.getQueryData<Page<Conversation>>(keys.conversations({}))?.results.map((c) => c.id)).toEqual(["new", "old"]),
    );
    expect(calls).toBe(2);
    unsubscribe();
  });

  it("updates in place, re-sorts, and drops a conversation that no longer matches", () => {
    const qc = client();
    const a = conversation({ id: "a", status: "pending_human", last_message_at: "2026-01-01T09:00:00Z" });
    const b = conversation({ id: "b", status: "pending_human", last_message_at: "2026-01-01T10:00:00Z" });
    qc.setQueryData(keys.conversations({ status: "pending_human" }), page([b, a]));
    qc.setQueryData(keys.conversations({}), page([b, a]));
    applyEvent(qc, {
      type: "conversation.updated",
      tenant_id: "t",
      conversation: { ...a, unread_count: 3, last_message_at: "2026-01-01T12:00:00Z" },
    });
    expect(qc.getQueryData<Page<Conversation>>(keys.conversations({}))?.results.map((c) => [c.id, c.unread_count])).toEqual([
      ["a", 3],
      ["b", 0],
    ]);
    applyEvent(qc, { type: "conversation.updated", tenant_id: "t", conversation: { ...b, status: "assigned" } });
    const queue = qc.getQueryData<Page<Conversation>>(keys.conversations({ status: "pending_human" }));
    expect(queue?.results.map((c) => c.id)).toEqual(["a"]);
    expect(queue?.count).toBe(1);
  });

  it("appends a new message once and replaces it on a delivery update", () => {
    const qc = client();
    qc.setQueryData(keys.messages("c1"), page([message({ id: "m1" })]));
    const outbound = message({ id: "m2", direction: "outbound", sender_type: "agent", delivery_status: "queued" });
    applyEvent(qc, { type: "message.created", tenant_id: "t", conversation_id: "c1", message: outbound });
    applyEvent(qc, { type: "message.created", tenant_id: "t", conversation_id: "c1", message: outbound });
    applyEvent(qc, {
      type: "message.updated",
      tenant_id: "t",
      conversation_id: "c1",
      message: { ...outbound, delivery_status: "delivered" },
    });
    const messages = qc.getQueryData<Page<Message>>(keys.messages("c1"));
    expect(messages?.results.map((m) => [m.id, m.delivery_status])).toEqual([
      ["m1", "received"],
      ["m2", "delivered"],
    ]);
    expect(messages?.count).toBe(2);
  });

  it("ignores messages of conversations nobody has open, and unknown event types", () => {
    const qc = client();
    applyEvent(qc, { type: "message.created", tenant_id: "t", conversation_id: "zz", message: message() });
    applyEvent(qc, { type: "typing", tenant_id: "t", conversation_id: "c1", sender_type: "customer", is_typing: true });
    expect(qc.getQueryData(keys.messages("zz"))).toBeUndefined();
  });
});
