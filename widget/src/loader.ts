// Entry point of widget.js: <script src="https://parley.example/widget.js" data-widget-key="..." async>.
// Reads the tag's data-* attributes, fetches the widget's public settings, mounts the chat in a shadow
// root and connects over /ws/webchat/<key>/ (at once for a returning visitor, else on first open).
import { WebChatClient, tokenStorageKey } from "./client";
import { DEFAULT_SETTINGS, type WidgetSettings, mergeSettings } from "./theme";
import { ChatUI, type UploadResult } from "./ui";

export interface ParleyWidgetApi {
  open(): void;
  close(): void;
  toggle(): void;
  client: WebChatClient;
}

function findScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.dataset.widgetKey) return current;
  return document.querySelector<HTMLScriptElement>("script[data-widget-key]");
}

function safeStorage(kind: "localStorage" | "sessionStorage"): Storage | null {
  try {
    const storage = window[kind];
    storage.getItem("parley:probe");
    return storage;
  } catch {
    return null;
  }
}

async function fetchSettings(origin: string, key: string): Promise<Record<string, unknown>> {
  try {
    const response = await fetch(`${origin}/widget/${encodeURIComponent(key)}/settings.json`, { credentials: "omit" });
    if (response.ok) return (await response.json()) as Record<string, unknown>;
  } catch {
    // Offline or blocked: the defaults and data-* attributes still give a working chat.
  }
  return {};
}

export function mount(script: HTMLScriptElement): ParleyWidgetApi | null {
  const key = script.dataset.widgetKey ?? "";
  if (!key) return null;
  const origin = new URL(script.src || "/", location.href).origin;
  const wsOrigin = origin.replace(/^http/, "ws");
  const local = safeStorage("localStorage");
  const session = safeStorage("sessionStorage");
  const openKey = `parley:${key}:open`;
  const overrides: Record<string, unknown> = {
    title: script.dataset.title,
    greeting: script.dataset.greeting,
    primary_color: script.dataset.color,
    position: script.dataset.position,
    avatar_url: script.dataset.avatar,
  };
  const settings: WidgetSettings = mergeSettings(DEFAULT_SETTINGS, overrides, origin);

  const client = new WebChatClient({
    url: `${wsOrigin}/ws/webchat/${encodeURIComponent(key)}/`,
    widgetKey: key,
    storage: local,
    locale: script.dataset.locale || navigator.language,
    restBase: `${origin}/api/v1/webchat/${encodeURIComponent(key)}/`,
  });

  const upload = async (file: Blob, name: string): Promise<UploadResult> => {
    const body = new FormData();
    body.append("file", file, name);
    body.append("client_id", `u-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
    try {
      const response = await fetch(current.uploadsUrl, {
        method: "POST",
        body,
        credentials: "omit",
        headers: { "X-Parley-Visitor-Token": client.token ?? "" },
      });
      if (response.ok) return { ok: true, detail: "" };
      const error = (await response.json().catch(() => ({}))) as { detail?: string };
      return { ok: false, detail: error.detail ?? `Upload failed (${response.status}).` };
    } catch {
      return { ok: false, detail: "Upload failed: you seem to be offline." };
    }
  };

  let current = settings;
  const ui = new ChatUI(client, settings, {
    onOpenChange(open) {
      try {
        session?.setItem(openKey, open ? "1" : "0");
      } catch {
        // ignore: remembering the open state is a nicety
      }
      if (open) client.connect();
    },
    upload,
  });
  document.body.append(ui.host);

  void fetchSettings(origin, key).then((server) => {
    // The page's data-* attributes win over the channel's settings.
    current = mergeSettings(mergeSettings(DEFAULT_SETTINGS, server, origin), overrides, origin);
    ui.applySettings(current);
  });

  const returning = !!local?.getItem(tokenStorageKey(key));
  if (returning) client.connect();
  if (session?.getItem(openKey) === "1" || script.dataset.open === "true") ui.setOpen(true);

  window.addEventListener("online", () => client.retryNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      client.retryNow();
      if (ui.isOpen) client.markRead();
    }
  });

  return { open: () => ui.setOpen(true), close: () => ui.setOpen(false), toggle: () => ui.toggle(), client };
}

function boot(script: HTMLScriptElement): ParleyWidgetApi | null {
  const existing = (window as unknown as { __parleyWidget?: ParleyWidgetApi }).__parleyWidget;
  if (existing) return existing; // pasted twice: one widget
  const api = mount(script);
  (window as unknown as { __parleyWidget?: ParleyWidgetApi | null }).__parleyWidget = api;
  return api;
}

// document.currentScript is only set while this file first runs, so find the tag now and mount
// once the body exists.
const script = findScript();
let api: ParleyWidgetApi | null = null;
if (script) {
  const tag = script;
  if (document.body) api = boot(tag);
  else document.addEventListener("DOMContentLoaded", () => (api = boot(tag)), { once: true });
}

export function open(): void {
  api?.open();
}

export function close(): void {
  api?.close();
}
