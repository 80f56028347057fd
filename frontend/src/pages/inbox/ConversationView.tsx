import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type Dispatch, type FormEvent, type SetStateAction, useEffect, useMemo, useRef, useState } from "react";
import { useParams } from "react-router-dom";
import { ApiError, type Conversation, type Message, request } from "../../api/client";
import { endpoints } from "../../api/endpoints";
import { useConversation, useMessages, useReply, useUpdateConversation } from "../../api/hooks";
import { hasRole, useCurrentUser } from "../../auth";
import { ErrorMessage, Loading } from "../../components/States";
import { formatDateTime, humanize } from "../../lib/format";
import { labelsOf, PRIORITIES } from "../../lib/inboxFilters";
import { useHotkeys } from "../../lib/useHotkeys";
import { keys } from "../../realtime/applyEvent";
import { describeTyping, TypingNotifier, useTyping } from "../../realtime/typing";
import { sendInboxFrame } from "../../realtime/useInboxSocket";
import { CustomerPanel } from "./CustomerPanel";
import { useMembers } from "./Inbox";
import { CannedResponses, type CannedResponse, fillTemplate } from "./CannedResponses";
import { AssistantPanel } from "./AssistantPanel";

export function ConversationView() {
  const { conversationId = "" } = useParams();
  const conversation = useConversation(conversationId);
  const messages = useMessages(conversationId);
  const client = useQueryClient();
  const [draft, setDraft] = useState("");
  useEffect(() => setDraft(""), [conversationId]);

  const unread = conversation.data?.unread_count ?? 0;
  useEffect(() => {
    if (!conversationId || unread === 0) return;
    void request<Conversation>(`/api/v1/conversations/${conversationId}/read/`, { method: "POST" }).then((updated) => {
      client.setQueryData(keys.conversation(conversationId), updated);
    });
  }, [conversationId, unread, client]);

  if (conversation.isPending) return <Loading />;
  if (conversation.isError) return <ErrorMessage error={conversation.error} />;
  return (
    <div className="conversation">
      <div className="conversation-main">
        <ConversationHeader conversation={conversation.data} />
        <MessageStream messages={messages.data?.results ?? []} loading={messages.isPending} error={messages.error} />
        <TypingIndicator conversation={conversation.data} />
        <AssistantPanel conversationId={conversationId} onUseSuggestion={setDraft} />
        <Composer conversation={conversation.data} text={draft} setText={setDraft} />
      </div>
      <CustomerPanel conversation={conversation.data} />
    </div>
  );
}

/** A conversation transition through the handover API; its own PATCH where that API is absent. */
async function transition(path: string, body: object, fallback: object): Promise<Conversation> {
  const id = path.split("/")[4];
  try {
    return await request<Conversation>(path, { method: "POST", json: body });
  } catch (exc) {
    if (!(exc instanceof ApiError && exc.notAvailable)) throw exc;
    return request<Conversation>(`/api/v1/conversations/${id}/`, { method: "PATCH", json: fallback });
  }
}

function ConversationHeader({ conversation }: { conversation: Conversation }) {
  const me = useCurrentUser();
  const update = useUpdateConversation(conversation.id);
  const client = useQueryClient();
  const members = useMembers(hasRole(me, "supervisor"));
  const [notice, setNotice] = useState("");
  const humanOwns = conversation.status === "assigned" || conversation.status === "open";

  const handover = useMutation({
    mutationFn: (mode: "take" | "back") =>
      mode === "take"
        ? transition(endpoints.handover.takeOver(conversation.id), {}, { status: "assigned", assignee: me.id })
        : transition(endpoints.handover.handBack(conversation.id), {}, { status: "bot", assignee: null }),
    onSuccess: (updated, mode) => {
      client.setQueryData(keys.conversation(conversation.id), updated);
      void client.invalidateQueries({ queryKey: keys.conversationLists });
      setNotice(mode === "take" ? "You own this conversation now." : "Handed back to the assistant.");
    },
  });
  const change = useMutation({
    mutationFn: ({ path, body, fallback }: { path: string; body: object; fallback: object }) => transition(path, body, fallback),
    onSuccess: (updated) => {
      client.setQueryData(keys.conversation(conversation.id), updated);
      void client.invalidateQueries({ queryKey: keys.conversationLists });
      setNotice(`Conversation ${humanize(updated.status).toLowerCase()}.`);
    },
  });
  const resolve = () => change.mutate({ path: endpoints.handover.resolve(conversation.id), body: {}, fallback: { status: "resolved" } });
  useHotkeys({
    e: resolve,
    t: () => handover.mutate(humanOwns ? "back" : "take"),
  });
  const error = update.error ?? handover.error ?? change.error;

  return (
    <header className="conversation-header">
      <div>
        <h2>{conversation.customer?.name || conversation.customer?.email || "Visitor"}</h2>
        <p className="muted">
          {conversation.channel_name} ({humanize(conversation.channel_type)}) · <span className={`chip status-${conversation.status}`}>{humanize(conversation.status)}</span>
          {conversation.assignee_email ? ` · ${conversation.assignee_email}` : " · unassigned"}
          {conversation.team ? ` · team ${conversation.team}` : ""}
          {labelsOf(conversation).length ? ` · ${labelsOf(conversation).join(", ")}` : ""}
        </p>
      </div>
      <div className="actions" role="toolbar" aria-label="Conversation actions">
        <button type="button" onClick={() => handover.mutate(humanOwns ? "back" : "take")} disabled={handover.isPending}>
          {humanOwns ? "Hand back to assistant" : "Take over"}
        </button>
        <button type="button" onClick={resolve} disabled={change.isPending || conversation.status === "resolved"}>
          Resolve
        </button>
        <label>
          <span className="sr-only">Priority</span>
          <select aria-label="Priority" value={conversation.priority} onChange={(e) => update.mutate({ priority: e.target.value })}>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {humanize(p)} priority
              </option>
            ))}
          </select>
        </label>
        {members.data ? (
          <select
            aria-label="Reassign"
            value={conversation.assignee ?? ""}
            onChange={(e) =>
              e.target.value
                ? change.mutate({
                    path: endpoints.handover.reassign(conversation.id),
                    body: { assignee: e.target.value },
                    fallback: { assignee: e.target.value, status: "assigned" },
                  })
                : update.mutate({ assignee: null })
            }
          >
            <option value="">Unassigned</option>
            {members.data.results.map((m) => (
              <option key={m.user_id} value={m.user_id}>
                {m.name || m.email}
              </option>
            ))}
          </select>
        ) : null}
      </div>
      <p className="sr-only" role="status" aria-live="polite">
        {notice}
      </p>
      {error ? <ErrorMessage error={error} /> : null}
    </header>
  );
}

function DeliveryStatus({ message }: { message: Message }) {
  if (message.direction === "inbound") return null;
  const label = message.delivery_status === "failed" ? `failed: ${message.delivery_error}` : message.delivery_status;
  return (
    <span className={`delivery delivery-${message.delivery_status}`} title={message.delivery_error || undefined}>
      {label}
    </span>
  );
}

function Attachments({ message }: { message: Message }) {
  if (!message.attachments?.length) return null;
  return (
    <ul className="attachments">
      {message.attachments.map((attachment) => {
        const src = attachment.file_url || attachment.url;
        const name = attachment.filename || attachment.kind;
        if (attachment.media_status)
          return (
            <li key={attachment.id} className="attachment-refused">
              {name} ({attachment.media_status}: {attachment.media_error})
            </li>
          );
        if (!src) return <li key={attachment.id}>{name} (media not fetched yet)</li>;
        if (attachment.kind === "image" || attachment.mime_type?.startsWith("image/"))
          return (
            <li key={attachment.id}>
              <img src={src} alt={name || "image attachment"} loading="lazy" />
            </li>
          );
        if (attachment.kind === "audio" || attachment.mime_type?.startsWith("audio/"))
          return (
            <li key={attachment.id}>
              <audio controls src={src} aria-label={name || "voice message"} />
            </li>
          );
        return (
          <li key={attachment.id}>
            <a href={src} target="_blank" rel="noreferrer">
              {name}
            </a>
          </li>
        );
      })}
    </ul>
  );
}

function analysisText(analysis: unknown): string {
  if (!analysis || typeof analysis !== "object") return "";
  const a = analysis as { intent?: string | null; sentiment?: string; language?: string };
  return [a.intent && `intent ${a.intent}`, a.sentiment, a.language].filter(Boolean).join(" · ");
}

export function MessageStream({ messages, loading, error }: { messages: Message[]; loading: boolean; error: unknown }) {
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "end" });
  }, [messages.length]);
  if (loading) return <Loading />;
  if (error) return <ErrorMessage error={error} />;
  return (
    <div className="messages" role="log" aria-live="polite" aria-label="Messages" data-testid="messages" tabIndex={0}>
      {messages.map((message) => (
        <article
          key={message.id}
          className={`message from-${message.sender_type} ${message.is_private ? "private" : ""}`}
          data-testid="message"
        >
          <header>
            <span className="sender">
              {message.is_private ? "Private note · " : ""}
              {message.sender_name || humanize(message.sender_type)}
            </span>
            <time dateTime={message.created_at}>{formatDateTime(message.created_at)}</time>
            <DeliveryStatus message={message} />
          </header>
          {message.text ? <p className="text">{message.text}</p> : null}
          <Attachments message={message} />
          {Array.isArray(message.buttons) && message.buttons.length ? (
            <p className="muted">Buttons: {(message.buttons as { title?: string }[]).map((b) => b.title).join(", ")}</p>
          ) : null}
          {analysisText(message.analysis) ? <p className="analysis muted">{analysisText(message.analysis)}</p> : null}
        </article>
      ))}
      <div ref={end} />
    </div>
  );
}

function TypingIndicator({ conversation }: { conversation: Conversation }) {
  const me = useCurrentUser();
  const typists = useTyping(conversation.id, me.name || me.email);
  return (
    <p className="typing-indicator muted" aria-live="polite" data-testid="typing-indicator">
      {describeTyping(typists, conversation.customer?.name ?? "")}
    </p>
  );
}

function Composer({
  conversation,
  text,
  setText,
}: {
  conversation: Conversation;
  text: string;
  setText: Dispatch<SetStateAction<string>>;
}) {
  const [isPrivate, setPrivate] = useState(false);
  const [cannedOpen, setCannedOpen] = useState(false);
  const reply = useReply(conversation.id);
  const area = useRef<HTMLTextAreaElement>(null);
  // Public replies only: a private note is not something the customer should see being typed.
  const notifier = useMemo(
    () => new TypingNotifier((isTyping) => sendInboxFrame({ type: "typing", conversation_id: conversation.id, is_typing: isTyping })),
    [conversation.id],
  );
  useEffect(() => () => notifier.stop(), [notifier]);
  useEffect(() => {
    if (isPrivate) notifier.stop();
    else notifier.update(text);
  }, [notifier, text, isPrivate]);
  useHotkeys({
    r: () => {
      setPrivate(false);
      area.current?.focus();
    },
    n: () => {
      setPrivate(true);
      area.current?.focus();
    },
    "/": () => {
      area.current?.focus();
      setCannedOpen(true);
    },
  });
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (!text.trim()) return;
    // Clear the composer at once, so what the agent types next is never wiped by a late success;
    // on failure the draft comes back (unless a new one was started meanwhile).
    const draft = text.trim();
    setText("");
    reply.mutate({ text: draft, is_private: isPrivate }, { onError: () => setText((current) => current || draft) });
  };
  const useCanned = (canned: CannedResponse) => {
    setText(fillTemplate(canned.text, conversation));
    setCannedOpen(false);
    area.current?.focus();
    // The server fills every variable (agent, order, ...); the local fill above shows instantly.
    request<{ text?: string }>(endpoints.cannedRender(canned.id), { method: "POST", json: { conversation: conversation.id } })
      .then((rendered) => rendered.text && setText(rendered.text))
      .catch(() => undefined);
  };
  return (
    <form className={`composer ${isPrivate ? "private" : ""}`} onSubmit={submit} aria-label="Reply">
      {cannedOpen ? <CannedResponses onPick={useCanned} onClose={() => setCannedOpen(false)} /> : null}
      <label htmlFor="composer" className="sr-only">
        {isPrivate ? "Private note" : "Reply"}
      </label>
      <textarea
        id="composer"
        ref={area}
        rows={3}
        value={text}
        placeholder={isPrivate ? "Private note (only your team sees it)" : "Reply… (type / for canned responses, Ctrl+Enter to send)"}
        onChange={(e) => {
          const value = e.target.value;
          if (value === "/") {
            setCannedOpen(true);
            setText("");
            return;
          }
          setText(value);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit();
          if (e.key === "Escape") {
            setCannedOpen(false);
            area.current?.blur();
          }
        }}
      />
      <div className="composer-bar">
        <label className="check">
          <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.target.checked)} />
          Private note
        </label>
        <button type="button" className="link" onClick={() => setCannedOpen((v) => !v)}>
          Canned responses
        </button>
        <button type="submit" disabled={reply.isPending || !text.trim()}>
          {isPrivate ? "Add note" : "Send"}
        </button>
      </div>
      {reply.error ? <ErrorMessage error={reply.error} /> : null}
    </form>
  );
}
