/**
 * The typed API client. Paths and shapes come from `schema.d.ts`, generated from the committed
 * OpenAPI schema (`docs/openapi.json`) by `npm run generate`; never edit that file by hand.
 */
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Conversation = Schemas["Conversation"];
export type Message = Schemas["Message"];
export type Customer = Schemas["Customer"];
export type Me = Schemas["Me"];
export type Channel = Schemas["Channel"];
export type Membership = Schemas["Membership"];
export type ApiKey = Schemas["ApiKey"];
export type Ticket = Schemas["Ticket"];

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** An API answer other than 2xx, with the server's reason. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown, fallback = "") {
    super(describeError(status, body, fallback));
    this.status = status;
    this.body = body;
  }
  /** The endpoint does not exist on this server (yet). */
  get notAvailable(): boolean {
    return this.status === 404 || this.status === 405 || this.status === 501;
  }
}

export function describeError(status: number, body: unknown, fallback = ""): string {
  if (body && typeof body === "object") {
    const record = body as Record<string, unknown>;
    if (typeof record.detail === "string") return record.detail;
    const fields = Object.entries(record)
      .filter(([key]) => key !== "code")
      .map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(" ") : JSON.stringify(value)}`);
    if (fields.length) return fields.join("; ");
  }
  return fallback || `Request failed (HTTP ${status})`;
}

export function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match?.[1] ? decodeURIComponent(match[1]) : "";
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (UNSAFE.has(request.method)) request.headers.set("X-CSRFToken", csrfToken());
    return request;
  },
};

// An absolute base (same origin) so Request objects resolve outside a page too (tests).
export const api = createClient<paths>({
  baseUrl: typeof window !== "undefined" ? window.location.origin : "",
  credentials: "same-origin",
  fetch: (input: Request) => globalThis.fetch(input),
});
api.use(csrfMiddleware);

/** Unwrap an openapi-fetch result: data, or throw an ApiError with the server's reason. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok) return result.data as T;
  throw new ApiError(result.response.status, result.error);
}

/**
 * Untyped request for endpoints other engineers are still building (not yet in the committed
 * schema). Returns parsed JSON; throws ApiError (``notAvailable`` for 404) otherwise.
 */
export async function request<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const method = (init.method ?? "GET").toUpperCase();
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(init.json);
  }
  if (UNSAFE.has(method)) headers.set("X-CSRFToken", csrfToken());
  const response = await fetch(path, { ...init, method, headers, body, credentials: "same-origin" });
  const text = await response.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { detail: text.slice(0, 200) };
    }
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed as T;
}

/** Lists may come paginated ({results}) or bare; normalise to an array. */
export function listOf<T>(data: Page<T> | T[] | null | undefined): T[] {
  if (!data) return [];
  return Array.isArray(data) ? data : (data.results ?? []);
}
