/* What every view receives, and how it offers its CSV. */
import type { SurfaceState } from '../protocol/store';
import type { Cell } from '../lib/csv';

export interface CsvTable {
  header: string[];
  rows: Cell[][];
}

export interface ViewProps {
  st: SurfaceState;
  /* the view stores a function building its current data as CSV */
  exportRef: { current: (() => CsvTable) | null };
  /* server time - local time, ms: ages are measured on the server's clock */
  clockOffset: number;
}
