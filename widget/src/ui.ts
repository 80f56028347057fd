// The chat UI, rendered into a shadow root: launcher, panel, message log, quick replies, composer.
import type { ChatMessage } from "./protocol";
import type { ConnectionState, WebChatClient } from "./client";
import { type Recording, VoiceRecorder, canRecord } from "./recorder";
import { STYLES } from "./styles";
import { type WidgetSettings, luminance, readableOn } from "./theme";

type Attrs = Record<string, string | boolean | ((event: Event) => void)>;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else if (value !== false) el.setAttribute(name, value);
  }
  for (const child of children) if (child !== null) el.append(child);
  return el;
}

const ICONS = {
  chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z",
  close: "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z",
  clip: "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z",
  mic: "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1A7 7 0 0 0 19 11z",
  stop: "M6 6h12v12H6z",
};

function icon(path: string): SVGSVGElement {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const p = document.createElementNS("http://www.w3.org/2000/svg", "path");
  p.setAttribute("d", path);
  svg.append(p);
  return svg;
}

const STATUS_TEXT: Record<string, string> = {
  sending: "Sending…",
  queued: "Sending…",
  sent: "Sent",
  delivered: "Delivered",
  read: "Read",
  failed: "Not sent — tap to retry",
};

const CONNECTION_TEXT: Partial<Record<ConnectionState, string>> = {
  connecting: "Connecting…",
  reconnecting: "Connection lost, reconnecting…",
  failed: "Chat is unavailable on this page.",
};

function timeOf(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export interface UploadResult {
  ok: boolean;
  detail: string;
}

export class ChatUI {
  readonly host: HTMLElement;
  private readonly root: HTMLDivElement;
  private readonly panel: HTMLDivElement;
  private readonly launcher: HTMLButtonElement;
  private readonly badge: HTMLSpanElement;
  private readonly log: HTMLDivElement;
  private readonly typingLine: HTMLDivElement;
  private readonly statusLine: HTMLDivElement;
  private readonly subtitle: HTMLParagraphElement;
  private readonly input: HTMLTextAreaElement;
  private readonly form: HTMLFormElement;
  private readonly recordLine: HTMLDivElement;
  private readonly attachButton: HTMLButtonElement;
  private readonly titleEl: HTMLHeadingElement;
  private readonly avatar: HTMLImageElement;
  private readonly micButton: HTMLButtonElement;
  private readonly rendered = new Map<string, HTMLDivElement>();
  private readonly recorder = new VoiceRecorder();
  private unread = 0;
  private seenIds = new Set<string>();
  private typingTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly client: WebChatClient,
    private settings: WidgetSettings,
    private readonly hooks: { onOpenChange(open: boolean): void; upload(file: Blob, name: string): Promise<UploadResult> },
  ) {
    this.host = h("div", { id: "parley-chat-widget" });
    const shadow = this.host.attachShadow({ mode: "open" });
    const style = h("style", {}, STYLES);
    this.badge = h("span", { class: "badge", hidden: true });
    this.launcher = h(
      "button",
      { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "parley-panel", onclick: () => this.toggle() },
      icon(ICONS.chat),
      this.badge,
    );
    this.subtitle = h("p", {}, settings.subtitle);
    this.titleEl = h("h2", {}, settings.title);
    this.avatar = h("img", { alt: "", hidden: true });
    this.statusLine = h("div", { class: "status", role: "status", hidden: true });
    this.log = h("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Messages", tabindex: "0" });
    this.typingLine = h("div", { class: "typing", "aria-live": "polite" });
    this.input = h("textarea", {
      rows: "1",
      "aria-label": "Message",
      placeholder: "Write a message…",
      maxlength: "4000",
      oninput: () => this.client.sendTyping(this.input.value.trim().length > 0),
      onkeydown: (event) => this.onKeyDown(event as KeyboardEvent),
    });
    this.recordLine = h("div", { class: "rec", hidden: true, role: "status" });
    const fileInput = h("input", { type: "file", class: "sr", tabindex: "-1", "aria-hidden": "true", accept: "image/*,audio/*,application/pdf,.txt,.csv,.doc,.docx" });
    fileInput.addEventListener("change", () => {
      const file = fileInput.files?.[0];
      fileInput.value = "";
      if (file) void this.sendFile(file, file.name);
    });
    // Attachments and voice messages need the server's upload endpoint; hidden until it is advertised.
    this.attachButton = h("button", { class: "icon", type: "button", hidden: true, "aria-label": "Attach a file", onclick: () => fileInput.click() }, icon(ICONS.clip));
    this.micButton = h("button", { class: "icon mic", type: "button", hidden: true, "aria-label": "Record a voice message", "aria-pressed": "false", onclick: () => void this.toggleRecording() }, icon(ICONS.mic));
    this.form = h(
      "form",
      { onsubmit: (event) => this.onSubmit(event) },
      this.attachButton,
      fileInput,
      this.input,
      this.recordLine,
      this.micButton,
      h("button", { class: "send", type: "submit" }, "Send"),
    );
    this.panel = h(
      "div",
      { class: "panel", id: "parley-panel", role: "dialog", "aria-label": settings.title, onkeydown: (e) => (e as KeyboardEvent).key === "Escape" && this.setOpen(false) },
      h(
        "header",
        {},
        this.avatar,
        h("div", { class: "grow" }, this.titleEl, this.subtitle),
        h("button", { class: "icon", type: "button", "aria-label": "Close chat", onclick: () => this.setOpen(false) }, icon(ICONS.close)),
      ),
      this.statusLine,
      this.log,
      this.typingLine,
      this.form,
    );
    this.root = h("div", { class: "root" }, this.panel, this.launcher);
    shadow.append(style, this.root);
    this.applySettings(settings);

    client.subscribe({
      messages: (messages) => this.renderMessages(messages),
      state: (state, detail) => this.renderState(state, detail),
      typing: (sender, isTyping) => this.renderTyping(sender, isTyping),
      conversation: (_id, status) => this.renderConversation(status),
      welcome: (frame) => {
        if (frame.greeting && !this.settings.greeting) this.applySettings({ ...this.settings, greeting: frame.greeting });
      },
      error: (code, detail) => {
        if (code === "rate_limited") this.showStatus("You are sending messages too fast; retrying shortly.");
        else if (code !== "hello_required") this.showStatus(detail || code);
      },
    });
  }

  get isOpen(): boolean {
    return this.root.classList.contains("open");
  }

  applySettings(settings: WidgetSettings): void {
    this.settings = settings;
    const primary = settings.primaryColor;
    this.root.style.setProperty("--p", primary);
    this.root.style.setProperty("--on", readableOn(primary));
    // Outline buttons show the colour as text on white; fall back to dark text when it is too light.
    this.root.style.setProperty("--pt", 1.05 / (luminance(primary) + 0.05) >= 4.5 ? primary : "#111827");
    this.root.classList.toggle("left", settings.position === "left");
    this.launcher.setAttribute("aria-label", settings.launcherLabel);
    this.panel.setAttribute("aria-label", settings.title);
    this.titleEl.textContent = settings.title;
    if (settings.avatarUrl) this.avatar.src = settings.avatarUrl;
    this.avatar.hidden = !settings.avatarUrl;
    if (this.client.conversationStatus === null) this.subtitle.textContent = settings.subtitle;
    this.attachButton.hidden = !settings.uploadsUrl;
    this.micButton.hidden = !settings.uploadsUrl || !canRecord();
    this.renderMessages(this.client.messages);
  }

  toggle(): void {
    this.setOpen(!this.isOpen);
  }

  setOpen(open: boolean): void {
    if (open === this.isOpen) return;
    this.root.classList.toggle("open", open);
    this.launcher.setAttribute("aria-expanded", String(open));
    this.launcher.setAttribute("aria-label", open ? "Close chat" : this.settings.launcherLabel);
    this.launcher.firstElementChild?.replaceWith(icon(open ? ICONS.close : ICONS.chat));
    if (open) {
      this.unread = 0;
      this.renderBadge();
      this.input.focus();
      this.scrollToEnd();
      this.client.markRead();
    } else {
      this.launcher.focus();
    }
    this.hooks.onOpenChange(open);
  }

  private onKeyDown(event: KeyboardEvent): void {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.form.requestSubmit();
    }
  }

  private onSubmit(event: Event): void {
    event.preventDefault();
    if (this.recorder.recording) {
      void this.finishRecording(true);
      return;
    }
    if (this.client.sendText(this.input.value)) this.input.value = "";
    this.input.focus();
  }

  private async toggleRecording(): Promise<void> {
    if (this.recorder.recording) {
      await this.finishRecording(true);
      return;
    }
    try {
      await this.recorder.start();
    } catch {
      this.showStatus("Microphone access was refused.");
      return;
    }
    const mic = this.micButton;
    mic.setAttribute("aria-pressed", "true");
    mic.setAttribute("aria-label", "Stop recording and send");
    mic.replaceChildren(icon(ICONS.stop));
    this.input.hidden = true;
    this.recordLine.hidden = false;
    this.recordLine.textContent = "Recording… press stop to send";
  }

  private async finishRecording(send: boolean): Promise<void> {
    const recording: Recording | null = send ? await this.recorder.stop() : (this.recorder.cancel(), null);
    const mic = this.micButton;
    mic.setAttribute("aria-pressed", "false");
    mic.setAttribute("aria-label", "Record a voice message");
    mic.replaceChildren(icon(ICONS.mic));
    this.input.hidden = false;
    this.recordLine.hidden = true;
    if (recording) {
      const extension = recording.mimeType.includes("ogg") ? "ogg" : recording.mimeType.includes("mp4") ? "m4a" : "webm";
      await this.sendFile(recording.blob, `voice-message.${extension}`);
    }
  }

  private async sendFile(file: Blob, name: string): Promise<void> {
    if (file.size > this.settings.maxUploadBytes) {
      this.showStatus(`That file is too large (limit ${Math.round(this.settings.maxUploadBytes / 1048576)} MB).`);
      return;
    }
    this.showStatus(`Uploading ${name}…`);
    const result = await this.hooks.upload(file, name);
    this.showStatus(result.ok ? "" : result.detail);
  }

  private showStatus(text: string): void {
    this.statusLine.textContent = text;
    this.statusLine.hidden = !text;
  }

  private renderState(state: ConnectionState, detail?: string): void {
    const text = CONNECTION_TEXT[state];
    this.form.querySelector<HTMLButtonElement>(".send")!.disabled = state === "failed";
    this.showStatus(state === "failed" && detail ? `${text} (${detail})` : (text ?? ""));
    this.root.dataset.state = state;
  }

  private renderConversation(status: string | null): void {
    this.subtitle.textContent =
      status === "pending_human"
        ? "A person from our team will reply soon"
        : status === "assigned"
          ? "You are chatting with our team"
          : this.settings.subtitle;
  }

  private renderTyping(sender: string, isTyping: boolean): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.typingLine.textContent = isTyping ? `${sender === "agent" ? "An agent" : "The assistant"} is typing…` : "";
    // A lost "stopped typing" frame must not leave the indicator on forever.
    if (isTyping) this.typingTimer = setTimeout(() => (this.typingLine.textContent = ""), 15000);
  }

  private renderBadge(): void {
    this.badge.hidden = this.unread === 0;
    this.badge.textContent = String(this.unread);
    this.badge.setAttribute("aria-label", `${this.unread} unread`);
  }

  private renderMessages(messages: readonly ChatMessage[]): void {
    const items: HTMLDivElement[] = [];
    if (this.settings.greeting) {
      items.push(this.greetingItem());
    }
    const lastOutbound = [...messages].reverse().find((m) => m.direction === "outbound");
    const lastMessage = messages[messages.length - 1];
    let arrived = false;
    for (const message of messages) {
      const withButtons = message === lastOutbound && message === lastMessage && message.buttons.length > 0;
      const key = `${message.id}|${message.delivery_status}|${withButtons}|${message.text}`;
      let item = this.rendered.get(message.id);
      if (!item || item.dataset.key !== key) {
        item = this.renderMessage(message, withButtons);
        item.dataset.key = key;
        this.rendered.set(message.id, item);
        if (message.client_id) this.rendered.delete(`local:${message.client_id}`);
      }
      if (!this.seenIds.has(message.id)) {
        this.seenIds.add(message.id);
        if (message.direction === "outbound") arrived = true;
      }
      items.push(item);
    }
    const current = Array.from(this.log.children);
    if (current.length !== items.length || current.some((node, i) => node !== items[i])) {
      this.log.replaceChildren(...items);
    }
    if (arrived) {
      this.typingLine.textContent = "";
      if (this.isOpen && document.visibilityState !== "hidden") this.client.markRead();
    }
    if (!this.isOpen) {
      // Unread: replies newer than the newest one the visitor has read (the server tracks read receipts).
      let unread = 0;
      for (const message of messages) {
        if (message.direction !== "outbound" || message.sender_type === "system") continue;
        unread = message.delivery_status === "read" ? 0 : unread + 1;
      }
      this.unread = unread;
      this.renderBadge();
    }
    this.scrollToEnd();
  }

  private greetingItem(): HTMLDivElement {
    let item = this.rendered.get("greeting");
    if (!item || item.dataset.text !== this.settings.greeting) {
      item = h("div", { class: "msg out greeting" }, h("div", { class: "bubble" }, this.settings.greeting));
      item.dataset.text = this.settings.greeting;
      this.rendered.set("greeting", item);
    }
    return item;
  }

  private renderMessage(message: ChatMessage, withButtons: boolean): HTMLDivElement {
    const mine = message.direction === "inbound";
    const kind = message.sender_type === "system" ? "system" : mine ? "in" : "out";
    const bubble = h("div", { class: "bubble" });
    if (message.text) bubble.append(message.text);
    for (const attachment of message.attachments) {
      const isImage = attachment.kind === "image" || attachment.mime_type.startsWith("image/");
      const isAudio = ["audio", "voice"].includes(attachment.kind) || attachment.mime_type.startsWith("audio/");
      if (isImage) bubble.append(h("img", { src: attachment.url, alt: attachment.filename || "Image" }));
      else if (isAudio) bubble.append(h("audio", { src: attachment.url, controls: true, "aria-label": "Voice message" }));
      else bubble.append(h("a", { href: attachment.url, target: "_blank", rel: "noopener noreferrer" }, attachment.filename || "Attachment"));
    }
    const who = mine ? "You" : message.sender_type === "agent" ? message.sender_name || "Agent" : message.sender_type === "assistant" ? "Assistant" : "";
    const status = mine ? STATUS_TEXT[message.delivery_status] ?? message.delivery_status : "";
    const meta = h("div", { class: "meta" }, [who, timeOf(message.created_at), status].filter(Boolean).join(" · "));
    const item = h("div", { class: `msg ${kind}${message.delivery_status === "failed" ? " failed" : ""}` }, bubble);
    item.dataset.sender = message.sender_type;
    item.dataset.status = message.delivery_status;
    if (kind !== "system") item.append(meta);
    if (mine && message.delivery_status === "failed" && message.client_id) {
      meta.setAttribute("role", "button");
      meta.setAttribute("tabindex", "0");
      meta.addEventListener("click", () => this.client.sendText(message.text));
    }
    if (withButtons) {
      const group = h("div", { class: "qrs", role: "group", "aria-label": "Quick replies" });
      for (const button of message.buttons) {
        group.append(
          h("button", { class: "qr", type: "button", onclick: () => this.client.sendText(button.title, button.id) }, button.title),
        );
      }
      item.append(group);
    }
    return item;
  }

  private scrollToEnd(): void {
    this.log.scrollTop = this.log.scrollHeight;
  }
}
