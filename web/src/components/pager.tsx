/** Previous / "page N of M" / next, as links to the same view's other pages (the page lives in the URL). */
export function Pager({ page, pages, href }: { page: number; pages: number; href: (page: number) => string }) {
  return (
    <nav class="pager">
      {page > 1 ? <a href={href(page - 1)} rel="prev">← previous</a> : <span />}
      <span id="page">page {page} of {pages}</span>
      {page < pages ? <a href={href(page + 1)} rel="next">next →</a> : <span />}
    </nav>
  );
}
