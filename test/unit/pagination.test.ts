import { MAX_PER_PAGE, pageWindow, paginationQuery } from '../../common/schemas/pagination';

describe('pagination', () => {
  it('defaults to the first page of 50', () => {
    expect(paginationQuery.parse({})).toEqual({ page: 1, per_page: 50 });
  });

  it('reads query-string text as integers', () => {
    expect(paginationQuery.parse({ page: '3', per_page: '255' })).toEqual({ page: 3, per_page: 255 });
  });

  it.each([
    [{ page: '0' }, 'page'],
    [{ page: '1.5' }, 'page'],
    [{ per_page: '0' }, 'per_page'],
    [{ per_page: String(MAX_PER_PAGE + 1) }, 'per_page'],
    [{ per_page: 'many' }, 'per_page'],
  ])('refuses %j, naming %s', (query, field) => {
    const result = paginationQuery.safeParse(query);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0].path).toEqual([field]);
  });

  it('turns a page into LIMIT and OFFSET', () => {
    expect(pageWindow({ page: 1, per_page: 50 })).toEqual({ limit: 50, offset: 0 });
    expect(pageWindow({ page: 4, per_page: 25 })).toEqual({ limit: 25, offset: 75 });
  });
});
