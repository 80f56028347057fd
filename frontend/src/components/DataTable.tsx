import type { ReactNode } from "react";

export interface Column<T> {
  key: string;
  label: string;
  render?: (row: T) => ReactNode;
}

/** A plain, accessible table with a caption; `rows` are rendered in order. */
export function DataTable<T extends object>({
  caption,
  columns,
  rows,
  empty = "Nothing here yet.",
  rowKey,
}: {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  empty?: string;
  rowKey?: (row: T, index: number) => string;
}) {
  if (rows.length === 0) return <p className="muted">{empty}</p>;
  return (
    <div className="table-wrap" tabIndex={0}>
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.key} scope="col">
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={rowKey ? rowKey(row, index) : String((row as { id?: unknown }).id ?? index)}>
              {columns.map((column) => (
                <td key={column.key}>{column.render ? column.render(row) : cellText((row as Record<string, unknown>)[column.key])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(3);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Column definitions inferred from the first rows of an API answer (for endpoints still evolving). */
export function inferColumns<T extends object>(rows: T[], limit = 8): Column<T>[] {
  const keys: string[] = [];
  for (const row of rows.slice(0, 20)) {
    for (const [key, value] of Object.entries(row)) {
      if (!keys.includes(key) && (value === null || typeof value !== "object" || Array.isArray(value))) keys.push(key);
    }
  }
  return keys.slice(0, limit).map((key) => ({ key, label: key.replace(/_/g, " ") }));
}
