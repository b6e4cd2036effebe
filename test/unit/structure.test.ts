import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * The layout rules a newcomer relies on, checked on the import graph (TypeScript's own scanner):
 * workflow code imports only the SDK and the cross-process contracts; the contracts import no
 * runtime code; activities never import workflow code; migrations import only knex; no cycles;
 * the api builds no queries (they live in db/, the api calls db functions with a connection or transaction).
 */
const ROOT = resolve(__dirname, '../..');
const SOURCE_DIRS = ['action', 'activities', 'api', 'bench', 'cli', 'common', 'db', 'devenv', 'migrations', 'net', 'orchestrator', 'results', 'runner', 'scripts', 'workflows'];

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Every import and re-export of a file, with whether it is erased at runtime. */
function importsOf(file: string): { spec: string; typeOnly: boolean }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const found: { spec: string; typeOnly: boolean }[] = [];
  for (const node of source.statements) {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const allNamedAreTypes =
        !!clause && !clause.name && !!clause.namedBindings && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.every((e) => e.isTypeOnly);
      found.push({ spec: node.moduleSpecifier.text, typeOnly: !!clause?.isTypeOnly || allNamedAreTypes });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ spec: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    }
  }
  return found;
}

const files = SOURCE_DIRS.flatMap((dir) => tsFiles(join(ROOT, dir)));
const rel = (file: string) => relative(ROOT, file);
const external: { from: string; spec: string; typeOnly: boolean }[] = [];
const edges: Edge[] = files.flatMap((from) =>
  importsOf(from).flatMap(({ spec, typeOnly }) => {
    const to = resolveLocal(from, spec);
    if (!to) {
      external.push({ from: rel(from), spec, typeOnly });
      return [];
    }
    return [{ from: rel(from), to: rel(to), typeOnly }];
  }),
);

describe('module structure', () => {
  it('finds the source files it checks', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(edges.length).toBeGreaterThan(200);
  });

  it('workflow code imports only the workflow SDK, other workflows and the contracts', () => {
    const bad = edges.filter((e) => e.from.startsWith('workflows/') && !e.to.startsWith('workflows/') && !e.to.startsWith('common/contracts/'));
    const badExternal = external.filter((e) => e.from.startsWith('workflows/') && e.spec !== '@temporalio/workflow');
    expect([...bad.map((e) => `${e.from} → ${e.to}`), ...badExternal.map((e) => `${e.from} → ${e.spec}`)]).toEqual([]);
  });

  it('the contracts import no runtime code', () => {
    const bad = [
      ...edges.filter((e) => e.from.startsWith('common/contracts/') && !e.to.startsWith('common/contracts/')).map((e) => `${e.from} → ${e.to}`),
      ...external.filter((e) => e.from.startsWith('common/contracts/') && !e.typeOnly).map((e) => `${e.from} → ${e.spec}`),
    ];
    expect(bad).toEqual([]);
  });

  it('activities and runners never import workflow code', () => {
    const bad = edges.filter((e) => !e.from.startsWith('workflows/') && e.to.startsWith('workflows/'));
    expect(bad.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('migrations import only knex and each other', () => {
    const bad = [
      ...edges.filter((e) => e.from.startsWith('migrations/') && !e.to.startsWith('migrations/')).map((e) => `${e.from} → ${e.to}`),
      ...external.filter((e) => e.from.startsWith('migrations/') && e.spec !== 'knex').map((e) => `${e.from} → ${e.spec}`),
    ];
    expect(bad).toEqual([]);
  });

  it('the api builds no knex queries: they live in db/', () => {
    // Starting a query: `db('table')`, `app.db<Row>(table)`, `trx(...)`, or the connection's own builders.
    // `db.transaction(...)` stays allowed: a route may hold several db calls in one transaction.
    const builder = /\b(?:db|trx)\s*(?:<[^<>()]*>)?\(|\b(?:db|trx)\.(?:raw|fn|from|select|table|queryBuilder|with|schema)\b/;
    const bad = files
      .filter((file) => rel(file).startsWith('api/'))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .flatMap((line, i) => (builder.test(line) ? [`${rel(file)}:${i + 1}: ${line.trim()}`] : [])),
      );
    const runtimeKnex = external.filter((e) => e.from.startsWith('api/') && e.spec === 'knex' && !e.typeOnly).map((e) => e.from);
    expect([...bad, ...runtimeKnex]).toEqual([]);
  });

  it('has no import cycle', () => {
    const next = new Map<string, string[]>();
    for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      state.set(node, 'open');
      for (const to of next.get(node) ?? []) {
        if (state.get(to) === 'open') cycles.push([...path.slice(path.indexOf(to)), to].join(' → '));
        else if (!state.has(to)) visit(to, [...path, to]);
      }
      state.set(node, 'done');
    };
    for (const file of files.map(rel)) if (!state.has(file)) visit(file, [file]);
    expect(cycles).toEqual([]);
  });
});
