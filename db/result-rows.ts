import type { ThresholdTest } from '../results/thresholds';
import type { BranchRow, ReportRow } from './rows';

/** Row shapes of migration 004 (results), as Postgres returns them. */

export interface ResultsReportRow extends ReportRow {
  spec_id: string | null;
  image_digest: string | null;
}

export interface StartPointBranchRow extends BranchRow {
  start_point_branch_id: string | null;
  start_point_report_id: string | null;
  start_point_time: Date | null;
  history_since: Date | null;
  created_at: Date;
}

export interface ThresholdRow {
  id: string;
  project_id: string;
  branch_id: string;
  testbed_id: string;
  measure_id: string;
  model_id: string | null;
  created_at: Date;
  modified_at: Date;
}

export interface ThresholdModelRow {
  id: string;
  threshold_id: string;
  test: ThresholdTest;
  lower_boundary: number | null;
  upper_boundary: number | null;
  min_sample_size: number | null;
  max_sample_size: number | null;
  window_seconds: number | null;
  created_at: Date;
  replaced_at: Date | null;
}

export type AlertStatus = 'active' | 'dismissed' | 'silenced';

export interface AlertRow {
  id: string;
  project_id: string;
  boundary_id: string;
  metric_id: string;
  threshold_id: string;
  model_id: string;
  side: 'lower' | 'upper';
  limit: number;
  value: number;
  status: AlertStatus;
  created_at: Date;
  modified_at: Date;
}

export interface MeasureRow {
  id: string;
  project_id: string;
  slug: string;
  name: string;
  units: string;
}
