import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

/** Records every socket the loader opens; never connects anywhere. */
class RecordingWebSocket {
  static opened: RecordingWebSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string) {
    RecordingWebSocket.opened.push(this);
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
  }
}

function addScript(attributes: Record<string, string>): void {
  const script = document.createElement("script");
  script.src = "https://parley.example/widget.js";
  for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);
  document.head.append(script);
}

async function load(): Promise<void> {
  vi.resetModules();
  await import("../src/loader");
  await new Promise((resolve) => setTimeout(resolve, 0)); // settings fetch resolves
}

function shadow(): ShadowRoot {
  return document.querySelector("#parley-chat-widget")!.shadowRoot!;
}

describe("loader", () => {
  let fetches: string[];

  beforeEach(() => {
    document.head.innerHTML = "";
    document.body.innerHTML = "";
    localStorage.clear();
    sessionStorage.clear();
    delete (window as unknown as Record<string, unknown>).__parleyWidget;
    RecordingWebSocket.opened = [];
    fetches = [];
    vi.stubGlobal("WebSocket", RecordingWebSocket);
    vi.stubGlobal("fetch", async (url: string) => {
      fetches.push(url);
      return new Response(JSON.stringify({ title: "Shop help", primary_color: "#0f766e", position: "left", greeting: "Hello!" }), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    });
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("mounts one shadow-DOM widget themed from the server's settings, without connecting a first-time visitor", async () => {
    addScript({ "data-widget-key": "shop-widget" });
    await load();
    expect(fetches).toEqual(["https://parley.example/widget/shop-widget/settings.json"]);
    expect(document.querySelectorAll("#parley-chat-widget")).toHaveLength(1);
    const root = shadow().querySelector<HTMLElement>(".root")!;
    expect(root.classList.contains("left")).toBe(true);
    expect(root.style.getPropertyValue("--p")).toBe("#0f766e");
    expect(shadow().querySelector("h2")!.textContent).toBe("Shop help");
    expect(RecordingWebSocket.opened).toHaveLength(0);

    shadow().querySelector<HTMLButtonElement>(".launcher")!.click();
    expect(RecordingWebSocket.opened.map((s) => s.url)).toEqual(["wss://parley.example/ws/webchat/shop-widget/"]);
    expect(sessionStorage.getItem("parley:shop-widget:open")).toBe("1");
  });

  it("lets the page's data attributes win over the server's settings", async () => {
    addScript({ "data-widget-key": "shop-widget", "data-color": "#7c3aed", "data-title": "Ask us" });
    await load();
    const root = shadow().querySelector<HTMLElement>(".root")!;
    expect(root.style.getPropertyValue("--p")).toBe("#7c3aed");
    expect(shadow().querySelector("h2")!.textContent).toBe("Ask us");
    expect(root.classList.contains("left")).toBe(true);
  });

  it("reconnects a returning visitor at page load with the stored token, and reopens an open chat", async () => {
    localStorage.setItem("parley:shop-widget:visitor_token", "signed-token");
    sessionStorage.setItem("parley:shop-widget:open", "1");
    addScript({ "data-widget-key": "shop-widget", "data-locale": "de-DE" });
    await load();
    expect(RecordingWebSocket.opened).toHaveLength(1);
    const socket = RecordingWebSocket.opened[0];
    socket.readyState = 1;
    socket.onopen?.({});
    expect(JSON.parse(socket.sent[0])).toEqual({ type: "hello", visitor_token: "signed-token", locale: "de-DE" });
    expect(shadow().querySelector(".root")!.classList.contains("open")).toBe(true);
  });

  it("does nothing without a widget key, and mounts once when pasted twice", async () => {
    addScript({});
    await load();
    expect(document.querySelector("#parley-chat-widget")).toBeNull();

    document.head.innerHTML = "";
    addScript({ "data-widget-key": "shop-widget" });
    await load();
    await load();
    expect(document.querySelectorAll("#parley-chat-widget")).toHaveLength(1);
  });
});
