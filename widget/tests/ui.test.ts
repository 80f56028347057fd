import { beforeEach, describe, expect, it } from "vitest";
import { type SocketLike, WebChatClient } from "../src/client";
import { DEFAULT_SETTINGS, mergeSettings, readableOn } from "../src/theme";
import { ChatUI } from "../src/ui";

class Socket implements SocketLike {
  readyState = 1;
  sent: Record<string, unknown>[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {
    this.readyState = 3;
  }
  receive(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

describe("settings", () => {
  it("keeps only valid colours, positions and http(s) URLs", () => {
    const merged = mergeSettings(
      DEFAULT_SETTINGS,
      {
        primary_color: "red;background:url(x)",
        position: "top",
        avatar_url: "javascript:alert(1)",
        title: "  Shop help  ",
        greeting: 42,
      },
      "https://parley.example",
    );
    expect(merged.primaryColor).toBe(DEFAULT_SETTINGS.primaryColor);
    expect(merged.position).toBe("right");
    expect(merged.avatarUrl).toBe("");
    expect(merged.title).toBe("Shop help");
    expect(merged.greeting).toBe("");

    const good = mergeSettings(DEFAULT_SETTINGS, { primary_color: "#0F766E", position: "left", avatar_url: "/media/a.png" }, "https://parley.example");
    expect(good).toMatchObject({ primaryColor: "#0F766E", position: "left", avatarUrl: "https://parley.example/media/a.png" });
  });

  it("picks readable text for light and dark brand colours", () => {
    expect(readableOn("#1d4ed8")).toBe("#ffffff");
    expect(readableOn("#fde047")).toBe("#111827");
    expect(readableOn("#000")).toBe("#ffffff");
  });
});

describe("ChatUI", () => {
  let socket: Socket;
  let client: WebChatClient;
  let ui: ChatUI;
  let shadow: ShadowRoot;

  beforeEach(() => {
    document.body.innerHTML = "";
    socket = new Socket();
    client = new WebChatClient({
      url: "ws://x/ws/webchat/k/",
      widgetKey: "k",
      storage: null,
      socketFactory: () => socket,
      newId: () => "c-1",
    });
    ui = new ChatUI(client, { ...DEFAULT_SETTINGS, greeting: "Hi! How can we help?" }, {
      onOpenChange: (open) => open && client.connect(),
      upload: async () => ({ ok: true, detail: "" }),
    });
    document.body.append(ui.host);
    shadow = ui.host.shadowRoot!;
    ui.setOpen(true);
    socket.onopen?.({});
    socket.receive({ type: "welcome", protocol: 1, visitor_token: "t", visitor_id: "v", resumed: false, conversation_id: null, conversation_status: null, history: [] });
  });

  function texts(): string[] {
    return Array.from(shadow.querySelectorAll(".log .bubble"), (node) => node.textContent ?? "");
  }

  it("opens as a labelled dialog and shows the greeting", () => {
    const launcher = shadow.querySelector<HTMLButtonElement>(".launcher")!;
    expect(launcher.getAttribute("aria-expanded")).toBe("true");
    expect(shadow.querySelector("[role=dialog]")!.getAttribute("aria-label")).toBe("Chat with us");
    expect(texts()).toEqual(["Hi! How can we help?"]);
  });

  it("sends on Enter and shows the delivery state of the visitor's message", () => {
    const input = shadow.querySelector("textarea")!;
    input.value = "Where is my order?";
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(socket.sent.filter((f) => f.type === "message")).toEqual([
      { type: "message", client_id: "c-1", text: "Where is my order?", button_id: null },
    ]);
    expect(input.value).toBe("");
    const mine = () => shadow.querySelector(".msg.in")!;
    expect(mine().querySelector(".meta")!.textContent).toContain("Sending");
    socket.receive({ type: "ack", client_id: "c-1", message_id: "m-1", conversation_id: "c", duplicate: false });
    expect(mine().querySelector(".meta")!.textContent).toContain("Sent");
    socket.receive({ type: "delivery", message_id: "m-1", delivery_status: "read" });
    expect(mine().querySelector(".meta")!.textContent).toContain("Read");
  });

  it("shows quick replies under the newest reply only, and sends the clicked one", () => {
    const reply = {
      id: "m-2",
      conversation_id: "c",
      direction: "outbound",
      sender_type: "assistant",
      sender_name: "",
      text: "Did that help?",
      buttons: [
        { id: "yes", title: "Yes, thanks" },
        { id: "no", title: "No" },
      ],
      attachments: [],
      delivery_status: "delivered",
      client_id: null,
      created_at: "2026-11-21T01:00:00Z",
    };
    socket.receive({ type: "message", message: reply });
    const buttons = shadow.querySelectorAll<HTMLButtonElement>(".qr");
    expect(Array.from(buttons, (b) => b.textContent)).toEqual(["Yes, thanks", "No"]);
    buttons[0].click();
    expect(socket.sent.filter((f) => f.type === "message").at(-1)).toMatchObject({ text: "Yes, thanks", button_id: "yes" });
    // Once the visitor answered, the buttons are gone.
    expect(shadow.querySelectorAll(".qr")).toHaveLength(0);
    // The reply was marked read because the chat is open.
    expect(socket.sent.filter((f) => f.type === "read")).toEqual([{ type: "read", message_id: "m-2" }]);
  });

  it("renders an agent's name, attachments and the typing indicator", () => {
    socket.receive({ type: "typing", sender_type: "agent", is_typing: true });
    expect(shadow.querySelector(".typing")!.textContent).toBe("An agent is typing…");
    socket.receive({
      type: "message",
      message: {
        id: "m-3",
        conversation_id: "c",
        direction: "outbound",
        sender_type: "agent",
        sender_name: "Alex Agent",
        text: "Here is your label",
        buttons: [],
        attachments: [
          { kind: "image", mime_type: "image/png", url: "https://x/label.png", filename: "label.png" },
          { kind: "voice", mime_type: "audio/ogg", url: "https://x/note.ogg", filename: "" },
        ],
        delivery_status: "delivered",
        client_id: null,
        created_at: "2026-11-21T01:00:00Z",
      },
    });
    const item = shadow.querySelector(".msg.out:not(.greeting)")!;
    expect(item.querySelector(".meta")!.textContent).toContain("Alex Agent");
    expect(item.querySelector("img")!.getAttribute("alt")).toBe("label.png");
    expect(item.querySelector("audio")!.getAttribute("src")).toBe("https://x/note.ogg");
    expect(shadow.querySelector(".typing")!.textContent).toBe("");
  });

  it("tells the visitor when a person will take over, and when the connection drops", () => {
    socket.receive({ type: "conversation", conversation_id: "c", status: "pending_human" });
    expect(shadow.querySelector("header p")!.textContent).toBe("A person from our team will reply soon");
    socket.onclose?.({ code: 1006 });
    const status = shadow.querySelector<HTMLElement>(".status")!;
    expect(status.hidden).toBe(false);
    expect(status.textContent).toContain("reconnecting");
  });

  it("hides attachments and voice until the server advertises an upload endpoint", () => {
    expect(shadow.querySelector<HTMLButtonElement>("[aria-label='Attach a file']")!.hidden).toBe(true);
    ui.applySettings({ ...DEFAULT_SETTINGS, uploadsUrl: "https://x/upload/" });
    expect(shadow.querySelector<HTMLButtonElement>("[aria-label='Attach a file']")!.hidden).toBe(false);
  });

  it("closes on Escape and returns focus to the launcher", () => {
    shadow.querySelector("[role=dialog]")!.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(ui.isOpen).toBe(false);
    expect(shadow.activeElement).toBe(shadow.querySelector(".launcher"));
  });

  it("counts unread replies while closed", () => {
    ui.setOpen(false);
    socket.receive({
      type: "message",
      message: { id: "m-4", conversation_id: "c", direction: "outbound", sender_type: "agent", sender_name: "", text: "Hello?", buttons: [], attachments: [], delivery_status: "delivered", client_id: null, created_at: "2026-11-21T01:00:00Z" },
    });
    const badge = shadow.querySelector<HTMLElement>(".badge")!;
    expect(badge.hidden).toBe(false);
    expect(badge.textContent).toBe("1");
    ui.setOpen(true);
    expect(badge.hidden).toBe(true);
  });
});

describe("ChatUI unread badge", () => {
  it("counts only replies newer than the newest one already read", () => {
    document.body.innerHTML = "";
    const socket = new Socket();
    const client = new WebChatClient({ url: "ws://x/", widgetKey: "k", storage: null, socketFactory: () => socket });
    const ui = new ChatUI(client, DEFAULT_SETTINGS, { onOpenChange: () => undefined, upload: async () => ({ ok: true, detail: "" }) });
    document.body.append(ui.host);
    client.connect();
    socket.onopen?.({});
    const reply = (id: string, status: string, at: string) => ({
      id, conversation_id: "c", direction: "outbound", sender_type: "agent", sender_name: "", text: id, buttons: [], attachments: [],
      delivery_status: status, client_id: null, created_at: at,
    });
    socket.receive({
      type: "welcome", protocol: 1, visitor_token: "t", visitor_id: "v", resumed: true, conversation_id: "c", conversation_status: "assigned",
      history: [reply("a", "read", "2026-01-01T00:00:01Z"), reply("b", "read", "2026-01-01T00:00:02Z")],
    });
    const badge = ui.host.shadowRoot!.querySelector<HTMLElement>(".badge")!;
    expect(badge.hidden).toBe(true);
    socket.receive({ type: "message", message: reply("c", "delivered", "2026-01-01T00:00:03Z") });
    expect(badge.textContent).toBe("1");
  });
});
