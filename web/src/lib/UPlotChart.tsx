/* UPlotChart: a uPlot canvas chart that is built once per layout key and
 * then only fed setData on each update (no React re-render of the canvas,
 * no re-allocation): the path that keeps 10 updates/s smooth. */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface UPlotChartProps {
  /* Rebuilds the chart when it changes (series set, axis mode). */
  layoutKey: string;
  options: () => Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  height: number;
  testId?: string;
}

export function UPlotChart({ layoutKey, options, data, height, testId }: UPlotChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const u = new uPlot({ ...options(), width: Math.max(200, el.clientWidth), height }, latest.current, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [layoutKey, height]);

  useEffect(() => {
    /* keep the user's zoom: only reset scales when the x range is not pinned */
    plot.current?.setData(data, true);
  }, [data]);

  return <div className="chart" ref={host} data-testid={testId} />;
}

/* Tooltip-free legend values: 2-decimal vol in %. */
export const volAxis = (_u: uPlot, vals: number[]) => vals.map((v) => (v * 100).toFixed(1));
