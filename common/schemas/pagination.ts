import { z } from 'zod';
import { MAX_PER_PAGE } from '../limits';

/** Largest page a list endpoint returns (common/limits.ts, which the console reads too). */
export { MAX_PER_PAGE };

/**
 * `?page=1&per_page=50` on every list endpoint. Query strings arrive as text, hence the coercion;
 * a resource's own filters are added with `.extend(...)`.
 */
export const paginationQuery = z.object({
  page: z.coerce.number().int().min(1).default(1).describe('1-based page number'),
  per_page: z.coerce.number().int().min(1).max(MAX_PER_PAGE).default(50).describe(`rows per page, at most ${MAX_PER_PAGE}; the X-Total-Count response header holds the total across pages`),
});
export type Pagination = z.infer<typeof paginationQuery>;

/** A boolean query filter (`?archived=false`); absent means "do not filter". */
export const booleanFilter = z.enum(['true', 'false']).transform((v) => v === 'true').optional();

/** The rows of one page, as LIMIT and OFFSET. */
export function pageWindow({ page, per_page }: Pagination): { limit: number; offset: number } {
  return { limit: per_page, offset: (page - 1) * per_page };
}

/** The header every list response carries: how many rows match, across all pages. */
export const TOTAL_COUNT_HEADER = 'x-total-count';
