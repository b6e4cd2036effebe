/**
 * API limits that clients read too. A leaf module without zod, so the web console can import the
 * numbers the API enforces without bundling the schemas (common/schemas re-exports them).
 */

/** Rows one page of a list endpoint may hold. */
export const MAX_PER_PAGE = 255;
/** Series one plot may hold (branches × testbeds × benchmarks × measures). */
export const MAX_PLOT_SERIES = 64;
