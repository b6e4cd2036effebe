import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiGet, getToken, setToken } from './api';
import { AlertsPage } from './pages/alerts';
import { BenchmarksPage } from './pages/benchmarks';
import { HomePage } from './pages/home';
import { JobPage, JobsPage } from './pages/jobs';
import { PerfPage } from './pages/perf';
import { PipelinePage, PipelinesPage } from './pages/pipelines';
import { ProjectPage } from './pages/project';
import { ReportPage } from './pages/report';
import { RunnersPage } from './pages/runners';
import { onLinkClick, useLocation } from './router';
import './style.css';

function SignIn() {
  const [signedIn, setSignedIn] = useState(getToken() !== null);
  const [draft, setDraft] = useState('');
  if (signedIn) {
    return (
      <form class="signin" onSubmit={(e) => { e.preventDefault(); setToken(null); setSignedIn(false); location.reload(); }}>
        <span>signed in</span> <button type="submit">Sign out</button>
      </form>
    );
  }
  return (
    <form class="signin" onSubmit={(e) => { e.preventDefault(); if (!draft.trim()) return; setToken(draft.trim()); setSignedIn(true); location.reload(); }}>
      <input name="token" type="password" placeholder="API token (benchline_user_…)" value={draft} onInput={(e) => setDraft((e.target as HTMLInputElement).value)} autocomplete="off" />
      <button type="submit">Sign in</button>
    </form>
  );
}

function Route() {
  const { path, params } = useLocation();
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'projects' && parts[1]) {
    const project = parts[1];
    if (parts.length === 2) return <ProjectPage project={project} />;
    if (parts[2] === 'benchmarks') return <BenchmarksPage project={project} params={params} />;
    if (parts[2] === 'perf') return <PerfPage project={project} params={params} />;
    if (parts[2] === 'jobs') return parts[3] ? <JobPage project={project} job={parts[3]} /> : <JobsPage project={project} params={params} />;
    if (parts[2] === 'reports' && parts[3]) return <ReportPage project={project} report={parts[3]} />;
    if (parts[2] === 'pipelines') return parts[3] ? <PipelinePage project={project} pipeline={parts[3]} /> : <PipelinesPage project={project} params={params} />;
    if (parts[2] === 'alerts' && !parts[3]) return <AlertsPage project={project} params={params} />;
  }
  if (parts[0] === 'runners' && parts.length === 1) return <RunnersPage params={params} />;
  if (parts.length === 0) return <HomePage />;
  return <p class="error">No page at {path}.</p>;
}

/** A project's pages, on every page under it. */
function ProjectNav() {
  const { path } = useLocation();
  const [, section, project, page] = path.split('/');
  if (section !== 'projects' || !project) return null;
  const links = [['', 'overview'], ['/perf', 'perf'], ['/jobs', 'jobs'], ['/pipelines', 'pipelines'], ['/alerts', 'alerts']] as const;
  return (
    <nav id="project-nav">
      <span class="project">{decodeURIComponent(project)}</span>
      {links.map(([sub, label]) => (
        <a key={label} href={`/projects/${project}${sub}`} class={(page ?? '') === sub.slice(1) ? 'current' : undefined}>{label}</a>
      ))}
    </nav>
  );
}

/**
 * Links for server admins. The console asks the API what the token may see rather than being told
 * who is an admin: the runner list answers admins only.
 */
function AdminNav() {
  const [admin, setAdmin] = useState(false);
  useEffect(() => {
    if (getToken() !== null) apiGet('/v0/runners?per_page=1').then(() => setAdmin(true), () => setAdmin(false));
  }, []);
  return <nav class="admin-nav">{admin && <a href="/runners">Runners</a>}</nav>;
}

function App() {
  return (
    <div onClick={onLinkClick}>
      <header>
        <a href="/" class="brand">Benchline</a>
        <ProjectNav />
        <AdminNav />
        <SignIn />
      </header>
      <main>
        <Route />
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
