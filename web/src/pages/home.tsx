import { query } from '../api';
import { Status, useApi } from '../hooks';

interface Project {
  slug: string;
  name: string;
  organization: string;
  visibility: string;
}

/** The projects the visitor may read: public ones, and with a token its organizations' private ones. */
export function HomePage() {
  const projects = useApi<Project[]>(`/v0/projects${query({ per_page: 255 })}`);
  return (
    <section>
      <h1>Projects</h1>
      <Status of={projects} />
      {projects.state === 'ok' && (
        <table class="list" id="projects">
          <thead><tr><th>project</th><th>organization</th><th>visibility</th></tr></thead>
          <tbody>
            {projects.data.rows.map((p) => (
              <tr key={p.slug} data-project={p.slug}>
                <td><a href={`/projects/${encodeURIComponent(p.slug)}`}>{p.name}</a></td>
                <td>{p.organization}</td>
                <td>{p.visibility}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
