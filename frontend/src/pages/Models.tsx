import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { listOf, type Page, request } from "../api/client";
import { endpoints } from "../api/endpoints";
import { useOptionalApi } from "../api/hooks";
import { hasRole, useCurrentUser } from "../auth";
import type { ChartOption } from "../components/Chart";
import { DataTable } from "../components/DataTable";
import { LazyChart } from "../components/LazyChart";
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
  // ?version=<id> (the Datasets page links a freshly trained version here) opens its report.
  const [params] = useSearchParams();
  const linked = params.get("version") ?? "";
  const [open, setOpen] = useState(linked);
  useEffect(() => {
    if (linked) setOpen(linked);
  }, [linked]);
  const promote = useMutation({
    mutationFn: (id: string) => request(`${endpoints.models}${id}/promote/`, { method: "POST", json: {} }),
    onSuccess: () => void client.invalidateQueries({ queryKey: ["optional", endpoints.models] }),
  });
  const rows = listOf(models.data);
  const compared = rows.filter((r) => selected.includes(s(r.id)));
  const metricNames = [
    ...new Set(compared.flatMap((r) => Object.entries((r.metrics ?? {}) as Json).filter(([, v]) => typeof v !== "object").map(([k]) => k))),
  ];
  return (
    <section aria-labelledby="models-title">
      <h1 id="models-title">Models</h1>
      <p className="muted">
        Import a dataset and train a new version on the <Link to="/datasets">Datasets</Link> page.
      </p>
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
            { key: "name", label: "Name", render: (r) => <button type="button" className="link" onClick={() => setOpen(s(r.id))}>{s(r.name)}</button> },
            { key: "algorithm", label: "Algorithm" },
            { key: "dataset", label: "Dataset", render: (r) => `${s(r.dataset_format)} ${s(r.data_fingerprint).slice(0, 10)}` },
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
        {rows.find((r) => s(r.id) === open) ? <EvaluationReport model={rows.find((r) => s(r.id) === open) ?? {}} /> : null}
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

export interface ConfusionReport {
  n: number;
  errors: number;
  total_labels: number;
  labels: string[];
  matrix: number[][];
  worst: { gold: string; predicted: string; count: number; share_of_gold: number }[];
  per_label?: Record<string, Json>;
}

/** The confusion report a model version stored, if it looks like one. */
export function confusionOf(metrics: Json): ConfusionReport | null {
  const c = metrics.confusion as ConfusionReport | undefined;
  if (!c || !Array.isArray(c.labels) || !Array.isArray(c.matrix) || c.matrix.length !== c.labels.length) return null;
  return c;
}

/**
 * ECharts heatmap option: x = predicted, y = gold (top row first), cell = count. Correct answers (the
 * diagonal) are one series in a neutral colour; mistakes are another, shaded white → red up to the
 * biggest mistake, so errors stand out next to large diagonal counts.
 */
export function heatmapOption(c: ConfusionReport): ChartOption {
  const correct: [number, number, number][] = [];
  const mistakes: [number, number, number][] = [];
  c.matrix.forEach((row, y) => row.forEach((count, x) => (x === y ? correct : mistakes).push([x, y, count])));
  const max = Math.max(1, ...mistakes.map(([, , v]) => v));
  return {
    tooltip: {
      formatter: (p: { value: [number, number, number] }) =>
        `${c.labels[p.value[1]]} → ${c.labels[p.value[0]]}: ${p.value[2]}`,
    },
    grid: { left: 140, right: 20, top: 24, bottom: 110 },
    xAxis: { type: "category", data: c.labels, name: "predicted", nameLocation: "middle", nameGap: 95, axisLabel: { rotate: 45 } },
    yAxis: { type: "category", data: c.labels, inverse: true, name: "gold", nameLocation: "start", axisLabel: { width: 130, overflow: "truncate" } },
    visualMap: { seriesIndex: 1, min: 0, max, show: false, inRange: { color: ["#ffffff", "#f4a3a3", "#b3261e"] } },
    series: [
      { name: "correct", type: "heatmap", data: correct, itemStyle: { color: "#cfe3d4" }, label: { show: c.labels.length <= 15 } },
      { name: "mistakes", type: "heatmap", data: mistakes, label: { show: c.labels.length <= 15 } },
    ],
  };
}

function ConfusionMatrix({ confusion }: { confusion: ConfusionReport }) {
  const option = useMemo(() => heatmapOption(confusion), [confusion]);
  return (
    <section aria-labelledby="confusion-title" data-testid="confusion-matrix">
      <h4 id="confusion-title">Confusion matrix</h4>
      <p className="muted">
        {confusion.errors} of {confusion.n} report texts misclassified. Showing the {confusion.labels.length} labels most involved in
        mistakes{confusion.total_labels > confusion.labels.length ? ` (of ${confusion.total_labels})` : ""}: rows are the true label,
        columns the prediction.
      </p>
      <LazyChart option={option} label="Confusion matrix heatmap" height={Math.max(260, 40 + confusion.labels.length * 28 + 110)} />
      <details>
        <summary>The matrix as a table</summary>
        <table className="heatmap-table">
          <caption>Gold (rows) by predicted (columns)</caption>
          <thead>
            <tr>
              <th scope="col">gold \ predicted</th>
              {confusion.labels.map((label) => (
                <th key={label} scope="col">
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {confusion.matrix.map((row, i) => (
              <tr key={confusion.labels[i]}>
                <th scope="row">{confusion.labels[i]}</th>
                {row.map((count, j) => (
                  <td key={confusion.labels[j]}>{count}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      {confusion.worst.length ? (
        <DataTable
          caption="Worst confusions"
          rows={confusion.worst.map((w) => ({ ...w, id: `${w.gold}→${w.predicted}` }))}
          columns={[
            { key: "gold", label: "True label" },
            { key: "predicted", label: "Predicted as" },
            { key: "count", label: "Texts", render: (w) => String(w.count) },
            { key: "share_of_gold", label: "Share of the label", render: (w) => `${(w.share_of_gold * 100).toFixed(1)} %` },
          ]}
        />
      ) : (
        <p className="muted">No mistakes on the report split.</p>
      )}
    </section>
  );
}

/** Flattened numeric metrics, and per-label results (worst F1 first) when the model stored them. */
export function EvaluationReport({ model }: { model: Json }) {
  const metrics = (model.metrics ?? {}) as Json;
  const scalars = Object.entries(metrics).filter(([, v]) => typeof v === "number");
  const confusion = confusionOf(metrics);
  const perLabel = (metrics.per_label ?? confusion?.per_label ?? null) as Record<string, Json> | null;
  const labelRows =
    perLabel && typeof perLabel === "object" && !Array.isArray(perLabel)
      ? Object.entries(perLabel)
          .map(([label, v]) => ({ id: label, label, f1: Number(v["f1-score"] ?? v.f1 ?? 0), support: v.support, confused_with: v.confused_with }))
          .sort((a, b) => a.f1 - b.f1)
      : [];
  return (
    <section className="card" aria-labelledby="eval-title">
      <h3 id="eval-title">
        Evaluation report: {s(model.kind)} {s(model.name)}
      </h3>
      <dl className="metrics">
        {scalars.map(([key, value]) => (
          <div key={key}>
            <dt>{key.replace(/_/g, " ")}</dt>
            <dd>{Number(value).toFixed(3)}</dd>
          </div>
        ))}
      </dl>
      <p className="muted">Trained in {s(model.training_seconds)} s on {s(model.dataset_format)} data ({s(model.data_fingerprint).slice(0, 16)}).</p>
      {confusion ? (
        <ConfusionMatrix confusion={confusion} />
      ) : (
        <p className="muted">This model version stored no confusion report (retrain it to get one).</p>
      )}
      {labelRows.length ? (
        <DataTable
          caption="Per label, worst first (with what each is confused with)"
          rows={labelRows.slice(0, 30)}
          columns={[
            { key: "label", label: "Label" },
            { key: "f1", label: "F1", render: (r) => r.f1.toFixed(3) },
            { key: "support", label: "Support", render: (r) => s(r.support) },
            { key: "confused_with", label: "Confused with", render: (r) => s(r.confused_with) },
          ]}
        />
      ) : (
        <p className="muted">This model version stored no per-label results.</p>
      )}
    </section>
  );
}
