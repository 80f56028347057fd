import { useEffect, useRef, useState } from "react";
import type { Conversation } from "../../api/client";
import { endpoints } from "../../api/endpoints";
import { useOptionalApi } from "../../api/hooks";
import { listOf, type Page } from "../../api/client";
import { QueryState } from "../../components/States";

export interface CannedResponse {
  id: string;
  shortcut?: string;
  title?: string;
  text: string;
}

/** Fill {{customer.name}}-style variables from the conversation; unknown ones stay as typed. */
export function fillTemplate(template: string, conversation: Pick<Conversation, "customer" | "channel_name">): string {
  const values: Record<string, string> = {
    "customer.name": conversation.customer?.name ?? "",
    "customer.first_name": (conversation.customer?.name ?? "").split(/\s+/)[0] ?? "",
    "customer.email": conversation.customer?.email ?? "",
    "channel.name": conversation.channel_name ?? "",
  };
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, key: string) => values[key] ?? whole);
}

export function filterCanned(items: CannedResponse[], query: string): CannedResponse[] {
  const q = query.trim().toLowerCase();
  if (!q) return items;
  return items.filter((item) => [item.shortcut, item.title, item.text].some((field) => field?.toLowerCase().includes(q)));
}

export function CannedResponses({ onPick, onClose }: { onPick: (item: CannedResponse) => void; onClose: () => void }) {
  const query = useOptionalApi<Page<CannedResponse> | CannedResponse[]>(endpoints.cannedResponses);
  const [filter, setFilter] = useState("");
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const items = filterCanned(listOf(query.data), filter);
  return (
    <div className="canned" role="dialog" aria-label="Canned responses">
      <QueryState query={query} feature="Canned responses">
        <label htmlFor="canned-filter" className="sr-only">
          Search canned responses
        </label>
        <input
          id="canned-filter"
          ref={input}
          role="combobox"
          aria-expanded="true"
          aria-controls="canned-list"
          aria-activedescendant={items[active] ? `canned-${items[active].id}` : undefined}
          placeholder="Search by shortcut or text"
          value={filter}
          onChange={(e) => {
            setFilter(e.target.value);
            setActive(0);
          }}
          onKeyDown={(e) => {
            if (e.key === "ArrowDown") setActive((i) => Math.min(items.length - 1, i + 1));
            else if (e.key === "ArrowUp") setActive((i) => Math.max(0, i - 1));
            else if (e.key === "Enter" && items[active]) {
              e.preventDefault();
              onPick(items[active]);
            } else if (e.key === "Escape") onClose();
            else return;
            e.preventDefault();
          }}
        />
        <ul id="canned-list" role="listbox" aria-label="Canned responses">
          {items.map((item, index) => (
            <li
              key={item.id}
              id={`canned-${item.id}`}
              role="option"
              aria-selected={index === active}
              onMouseDown={(e) => {
                e.preventDefault();
                onPick(item);
              }}
            >
              {item.shortcut ? <code>/{item.shortcut}</code> : null} {item.title ?? ""} <span className="muted">{item.text}</span>
            </li>
          ))}
          {items.length === 0 ? <li className="muted">No canned responses match.</li> : null}
        </ul>
      </QueryState>
      <button type="button" className="link" onClick={onClose}>
        Close
      </button>
    </div>
  );
}
