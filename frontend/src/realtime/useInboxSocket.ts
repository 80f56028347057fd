import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { applyEvent, type InboxEvent } from "./applyEvent";

export type SocketState = "connecting" | "live" | "offline";

// The one open inbox socket (the Layout keeps it), so the composer can report typing through it.
let openSocket: WebSocket | null = null;

/** Send a frame on the inbox socket; false when it is not open (the frame is dropped). */
export function sendInboxFrame(frame: object): boolean {
  if (!openSocket || openSocket.readyState !== WebSocket.OPEN) return false;
  openSocket.send(JSON.stringify(frame));
  return true;
}

/** Reconnect delay for attempt n (1-based): exponential with a 15 s cap. */
export function backoffMs(attempt: number): number {
  return Math.min(15_000, 500 * 2 ** Math.max(0, attempt - 1));
}

export function inboxSocketUrl(location: Pick<Location, "protocol" | "host"> = window.location): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/inbox/`;
}

/**
 * Keeps one `/ws/inbox/` socket open while mounted (session-cookie auth), reconnecting with
 * backoff, and applies every event to the query cache. After a reconnect it refetches, since
 * events may have been missed while offline.
 */
export function useInboxSocket(enabled = true): SocketState {
  const client = useQueryClient();
  const [state, setState] = useState<SocketState>("connecting");
  const attempts = useRef(0);

  useEffect(() => {
    if (!enabled || typeof WebSocket === "undefined") return;
    let socket: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ping: ReturnType<typeof setInterval> | undefined;
    let stopped = false;

    const connect = () => {
      setState("connecting");
      socket = new WebSocket(inboxSocketUrl());
      socket.onopen = () => {
        openSocket = socket;
        if (attempts.current > 0) void client.invalidateQueries();
        attempts.current = 0;
        setState("live");
        ping = setInterval(() => socket?.readyState === WebSocket.OPEN && socket.send('{"type":"ping"}'), 25_000);
      };
      socket.onmessage = (message: MessageEvent<string>) => {
        try {
          applyEvent(client, JSON.parse(message.data) as InboxEvent);
        } catch {
          // A malformed frame is ignored; the next REST refetch reconciles.
        }
      };
      socket.onclose = () => {
        clearInterval(ping);
        if (openSocket === socket) openSocket = null;
        if (stopped) return;
        setState("offline");
        attempts.current += 1;
        timer = setTimeout(connect, backoffMs(attempts.current));
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      clearInterval(ping);
      socket?.close();
    };
  }, [client, enabled]);

  return state;
}
