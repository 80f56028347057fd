// Widget settings: what the business configured on its web-chat channel (served by
// GET /widget/<key>/settings.json), overridable per page through the script tag's data-* attributes.

export interface WidgetSettings {
  title: string;
  subtitle: string;
  greeting: string;
  primaryColor: string;
  position: "right" | "left";
  avatarUrl: string;
  launcherLabel: string;
  uploadsUrl: string;
  maxUploadBytes: number;
}

export const DEFAULT_SETTINGS: WidgetSettings = {
  title: "Chat with us",
  subtitle: "We usually reply in a few minutes",
  greeting: "",
  primaryColor: "#1d4ed8",
  position: "right",
  avatarUrl: "",
  launcherLabel: "Open chat",
  uploadsUrl: "",
  maxUploadBytes: 10 * 1024 * 1024,
};

const COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

function str(value: unknown, max = 300): string | undefined {
  return typeof value === "string" && value.trim() ? value.trim().slice(0, max) : undefined;
}

function safeUrl(value: unknown, base: string): string | undefined {
  const text = str(value, 2000);
  if (!text) return undefined;
  try {
    const url = new URL(text, base);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Merge untrusted settings (server JSON, data attributes) over `base`, keeping only valid values. */
export function mergeSettings(base: WidgetSettings, raw: Record<string, unknown>, origin: string): WidgetSettings {
  const color = str(raw.primary_color ?? raw.color, 7);
  const position = raw.position === "left" || raw.position === "right" ? raw.position : undefined;
  const maxBytes = Number(raw.max_upload_bytes);
  return {
    title: str(raw.title, 80) ?? base.title,
    subtitle: str(raw.subtitle, 120) ?? base.subtitle,
    greeting: str(raw.greeting, 500) ?? base.greeting,
    primaryColor: color && COLOR.test(color) ? color : base.primaryColor,
    position: position ?? base.position,
    avatarUrl: safeUrl(raw.avatar_url ?? raw.avatar, origin) ?? base.avatarUrl,
    launcherLabel: str(raw.launcher_label, 60) ?? base.launcherLabel,
    uploadsUrl: safeUrl(raw.uploads_url, origin) ?? base.uploadsUrl,
    maxUploadBytes: Number.isFinite(maxBytes) && maxBytes > 0 ? maxBytes : base.maxUploadBytes,
  };
}

function channel(hex: string, index: number): number {
  const full = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, "$&$&").slice(1) : hex.slice(1);
  const value = parseInt(full.slice(index * 2, index * 2 + 2), 16) / 255;
  return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
}

/** Relative luminance (WCAG 2.x) of a #rgb / #rrggbb colour. */
export function luminance(hex: string): number {
  return 0.2126 * channel(hex, 0) + 0.7152 * channel(hex, 1) + 0.0722 * channel(hex, 2);
}

/** Black or white, whichever reads better on `hex` (WCAG contrast ratio). */
export function readableOn(hex: string): "#ffffff" | "#111827" {
  const l = luminance(hex);
  const onWhite = 1.05 / (l + 0.05);
  const onDark = (l + 0.05) / (luminance("#111827") + 0.05);
  return onWhite >= onDark ? "#ffffff" : "#111827";
}
