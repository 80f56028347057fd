// Frames of the web chat protocol v1 (docs/webchat-protocol.md). Keep in step with the server.

export type DeliveryStatus = "queued" | "sending" | "sent" | "delivered" | "read" | "failed";

export interface ChatButton {
  id: string;
  title: string;
}

export interface ChatAttachment {
  kind: string;
  mime_type: string;
  url: string;
  filename: string;
}

export interface ChatMessage {
  id: string;
  conversation_id: string;
  direction: "inbound" | "outbound";
  sender_type: "customer" | "assistant" | "agent" | "system";
  sender_name: string;
  text: string;
  buttons: ChatButton[];
  attachments: ChatAttachment[];
  delivery_status: DeliveryStatus | string;
  client_id: string | null;
  created_at: string;
}

export interface WelcomeFrame {
  type: "welcome";
  protocol: number;
  visitor_token: string;
  visitor_id: string;
  resumed: boolean;
  conversation_id: string | null;
  conversation_status: string | null;
  greeting?: string;
  history: ChatMessage[];
}

export interface MessageFrame {
  type: "message";
  message: ChatMessage;
}

export interface AckFrame {
  type: "ack";
  client_id: string;
  message_id: string;
  conversation_id: string;
  duplicate: boolean;
}

export interface DeliveryFrame {
  type: "delivery";
  message_id: string;
  delivery_status: DeliveryStatus | string;
  at?: string;
}

export interface TypingFrame {
  type: "typing";
  sender_type: string;
  is_typing: boolean;
}

export interface ConversationFrame {
  type: "conversation";
  conversation_id: string;
  status: string;
}

export interface ErrorFrame {
  type: "error";
  code: string;
  detail?: string;
  client_id?: string;
}

export type ServerFrame =
  | WelcomeFrame
  | MessageFrame
  | AckFrame
  | DeliveryFrame
  | TypingFrame
  | ConversationFrame
  | ErrorFrame
  | { type: "pong" };

export interface HelloFrame {
  type: "hello";
  visitor_token: string | null;
  locale?: string;
  name?: string;
  email?: string;
  after_message_id?: string;
}

export interface OutgoingMessageFrame {
  type: "message";
  client_id: string;
  text: string;
  button_id: string | null;
}

export type ClientFrame =
  | HelloFrame
  | OutgoingMessageFrame
  | { type: "typing"; is_typing: boolean }
  | { type: "read"; message_id: string }
  | { type: "ping" };

/** Close codes after which reconnecting cannot help (a configuration error). */
export const FATAL_CLOSE_CODES = new Set([4400, 4403, 4404]);

/** Parse one text frame; anything that is not an object with a string `type` is dropped. */
export function parseFrame(data: unknown): ServerFrame | null {
  if (typeof data !== "string") return null;
  try {
    const value: unknown = JSON.parse(data);
    if (value && typeof value === "object" && typeof (value as { type?: unknown }).type === "string") {
      return value as ServerFrame;
    }
  } catch {
    // A malformed frame is ignored: the server never sends one on purpose.
  }
  return null;
}
