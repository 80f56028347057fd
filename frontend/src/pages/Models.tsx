import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { listOf, type Page, request } from "../api/client";
import { endpoints } from "../api/endpoints";
import { useOptionalApi } from "../api/hooks";
import { hasRole, useCurrentUser } from "../auth";
import { DataTable } from "../components/DataTable";
import { ResourceList } from "../components/ResourceList";
import { ErrorMessage, QueryState } from "../components/States";
import { formatDateTime } from "../lib/format";

type Json = Record<string, unknown>;
const s = (v: unknown) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

function metric(row: Json, name: string): string {
  const metrics = (row.metrics ?? {}) as Json;
  const value = metrics[name];
  return typeof value === "number" ? value.toFixed(3) : s(value);
}

export default function Models() {
  const me = useCurrentUser();
  const models = useOptionalApi<Page<Json> | Json[]>(endpoints.models);
  const client = useQueryClient();
  const [selected, setSelected] = useState<string[]>([]);
  const promote = useMutation({
    mutationFn: (id: string) => request(`${endpoints.models}${id}/promote/`, { method: "POST", json: {} }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["optional", endpoints.models] }),
  });
  const rows = listOf(models.data);
  const compared = rows.filter((r) => selected.includes(s(r.id)));
  const metricNames = [...new Set(compared.flatMap((r) => Object.keys((r.metrics ?? {}) as Json)))];
  return (
    <section aria-labelledby="models-title">
      <h1 id="models-title">Datasets and models</h1>
      <h2>Datasets</h2>
      <ResourceList path={endpoints.datasets} feature="Dataset import" caption="Imported datasets" />
      <h2>Model versions</h2>
      <QueryState query={models} feature="The model registry">
        <DataTable<Json>
          caption="Trained models"
          rows={rows}
          columns={[
            {
              key: "pick",
              label: "Compare",
              render: (r) => (
                <input
                  type="checkbox"
                  aria-label={`Compare ${s(r.name ?? r.kind)} ${s(r.version ?? r.id)}`}
                  checked={selected.includes(s(r.id))}
                  onChange={(e) => setSelected(e.target.checked ? [...selected, s(r.id)] : selected.filter((id) => id !== s(r.id)))}
                />
              ),
            },
            { key: "kind", label: "Kind", render: (r) => s(r.kind ?? r.task) },
            { key: "version", label: "Version", render: (r) => s(r.version ?? r.name) },
            { key: "dataset", label: "Dataset", render: (r) => s(r.dataset ?? r.data_fingerprint) },
            { key: "accuracy", label: "Accuracy", render: (r) => metric(r, "accuracy") },
            { key: "macro_f1", label: "Macro F1", render: (r) => metric(r, "macro_f1") },
            { key: "created_at", label: "Trained", render: (r) => formatDateTime(s(r.created_at)) },
            {
              key: "promote",
              label: "Promoted",
              render: (r) =>
                r.is_promoted || r.promoted ? (
                  "yes"
                ) : hasRole(me, "admin") ? (
                  <button type="button" onClick={() => promote.mutate(s(r.id))}>
                    Promote
                  </button>
                ) : (
                  ""
                ),
            },
          ]}
        />
        {promote.error ? <ErrorMessage error={promote.error} /> : null}
        {compared.length >= 2 ? (
          <DataTable<Json>
            caption="Comparison"
            rows={metricNames.map((name) => ({ id: name, metric: name, ...Object.fromEntries(compared.map((r) => [s(r.id), metric(r, name)])) }))}
            columns={[{ key: "metric", label: "Metric" }, ...compared.map((r) => ({ key: s(r.id), label: s(r.version ?? r.id) }))]}
          />
        ) : (
          <p className="muted">Tick two versions to compare them.</p>
        )}
      </QueryState>
    </section>
  );
}
