import { listOf, type Page } from "../api/client";
import { useOptionalApi } from "../api/hooks";
import { type Column, DataTable, inferColumns } from "./DataTable";
import { QueryState } from "./States";

type Json = Record<string, unknown>;

/** A list from an API that may not exist yet; columns inferred unless given. */
export function ResourceList({
  path,
  feature,
  caption,
  columns,
}: {
  path: string;
  feature: string;
  caption: string;
  columns?: Column<Json>[];
}) {
  const query = useOptionalApi<Page<Json> | Json[]>(path);
  const rows = listOf(query.data);
  return (
    <QueryState query={query} feature={feature}>
      <DataTable<Json> caption={caption} rows={rows} columns={columns ?? inferColumns(rows)} />
    </QueryState>
  );
}
