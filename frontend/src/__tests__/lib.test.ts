import { describe, expect, it } from "vitest";
import { toCsv } from "../lib/csv";
import { diffLines } from "../lib/diff";
import { filtersToParams, labelsOf, matchesFilters } from "../lib/inboxFilters";
import { filterCanned, fillTemplate } from "../pages/inbox/CannedResponses";
import { daysBetween, rowsOf } from "../pages/Analytics";
import { backoffMs, inboxSocketUrl } from "../realtime/useInboxSocket";
import { describeError } from "../api/client";
import { conversation } from "./fixtures";

describe("inbox filters", () => {
  it("turns filters into query parameters, leaving out empty ones", () => {
    expect(filtersToParams({ status: "pending_human", team: "", unread: true, unassigned: undefined })).toEqual({
      status: "pending_human",
      unread: "true",
    });
  });
  it("matches each dimension", () => {
    const c = conversation({ labels: ["vip"], team: "billing", priority: "high", unread_count: 2, assignee: "u1" });
    expect(matchesFilters(c, {})).toBe(true);
    expect(matchesFilters(c, { label: "vip", team: "billing", priority: "high", unread: true, assignee: "u1" })).toBe(true);
    expect(matchesFilters(c, { label: "other" })).toBe(false);
    expect(matchesFilters(c, { unassigned: true })).toBe(false);
    expect(matchesFilters(c, { channel_type: "whatsapp" })).toBe(false);
    expect(matchesFilters({ ...c, unread_count: 0 }, { unread: true })).toBe(false);
    expect(labelsOf({ labels: "not-a-list" })).toEqual([]);
  });
});

describe("csv", () => {
  it("quotes separators, quotes and newlines, and defuses spreadsheet formulas", () => {
    expect(toCsv(["a", "b"], [["x,y", 'say "hi"'], ["=SUM(A1)", 3], [null, "line\nbreak"]])).toBe(
      'a,b\r\n"x,y","say ""hi"""\r\n\'=SUM(A1),3\r\n,"line\nbreak"\r\n',
    );
  });
});

describe("diff", () => {
  it("marks added and removed lines around common ones", () => {
    expect(diffLines("a\nb\nc", "a\nc\nd")).toEqual([
      { kind: "same", text: "a" },
      { kind: "removed", text: "b" },
      { kind: "same", text: "c" },
      { kind: "added", text: "d" },
    ]);
  });
});

describe("canned responses", () => {
  it("fills known variables and leaves unknown ones", () => {
    const c = conversation();
    expect(fillTemplate("Hi {{ customer.first_name }}, {{order.number}}", c)).toBe("Hi Maria, {{order.number}}");
  });
  it("filters by shortcut, title or text", () => {
    const items = [
      { id: "1", shortcut: "refund", text: "We refunded it" },
      { id: "2", shortcut: "hello", title: "Greeting", text: "Hi there" },
    ];
    expect(filterCanned(items, "greet").map((i) => i.id)).toEqual(["2"]);
    expect(filterCanned(items, "REFUND").map((i) => i.id)).toEqual(["1"]);
    expect(filterCanned(items, " ")).toHaveLength(2);
  });
});

describe("realtime helpers", () => {
  it("backs off exponentially up to 15 s", () => {
    expect([1, 2, 3, 10].map(backoffMs)).toEqual([500, 1000, 2000, 15000]);
  });
  it("uses wss behind https", () => {
    expect(inboxSocketUrl({ protocol: "https:", host: "x.example" })).toBe("wss://x.example/ws/inbox/");
    expect(inboxSocketUrl({ protocol: "http:", host: "127.0.0.1:8000" })).toBe("ws://127.0.0.1:8000/ws/inbox/");
  });
});

describe("analytics helpers", () => {
  it("lists the days of a range, capped to the most recent", () => {
    expect(daysBetween("2026-01-30", "2026-02-02")).toEqual(["2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"]);
    expect(daysBetween("2026-01-01", "2026-03-01", 2)).toEqual(["2026-02-28", "2026-03-01"]);
  });
  it("finds the rows of an answer", () => {
    expect(rowsOf({ total: 3, items: [{ a: 1 }] })).toEqual([{ a: 1 }]);
    expect(rowsOf([{ b: 2 }])).toEqual([{ b: 2 }]);
    expect(rowsOf({ total: 3 })).toEqual([]);
  });
});

describe("api errors", () => {
  it("shows the server's reason", () => {
    expect(describeError(400, { detail: "Bad thing", code: "x" })).toBe("Bad thing");
    expect(describeError(400, { text: ["This field is required."] })).toBe("text: This field is required.");
    expect(describeError(502, null)).toBe("Request failed (HTTP 502)");
  });
});

describe("inbox prefetch", () => {
  it("prefetches under the same query key the inbox reads with no filters", async () => {
    const { hashKey } = await import("@tanstack/react-query");
    const { readFilters } = await import("../pages/inbox/Inbox");
    const { INBOX_DEFAULT_FILTERS } = await import("../lib/inboxFilters");
    const { keys } = await import("../realtime/applyEvent");
    expect(hashKey(keys.conversations(readFilters(new URLSearchParams(), "u1")))).toBe(hashKey(keys.conversations(INBOX_DEFAULT_FILTERS)));
  });
});
