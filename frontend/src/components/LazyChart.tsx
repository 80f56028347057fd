import { lazy, Suspense } from "react";
import type { ChartOption } from "./Chart";

const Chart = lazy(() => import("./Chart"));

/** Charts load on demand so the inbox does not pay for ECharts. */
export function LazyChart(props: { option: ChartOption; label: string; height?: number }) {
  return (
    <Suspense fallback={<div style={{ height: props.height ?? 260 }} aria-busy="true" />}>
      <Chart {...props} />
    </Suspense>
  );
}
