import ELK from 'elkjs/lib/elk.bundled.js';
import type { PipelineView } from '../../common/schemas/pipelines';
import { criticalEdges, isCriticalEdge, layoutInput, NODE_HEIGHT, NODE_WIDTH, pollInterval, shapeKey, toDrawing } from '../../web/src/dag';

/** The console's pipeline DAG shaping: the graph handed to elkjs and its answer turned into boxes and paths. */
describe('console pipeline DAG', () => {
  // a → b → d, a → c → d (c needs a only to end), e alone.
  const graph = {
    jobs: ['a', 'b', 'c', 'd', 'e'].map((key) => ({ key })) as PipelineView['jobs'],
    edges: [
      { job: 'b', needs: 'a', requires_success: true },
      { job: 'c', needs: 'a', requires_success: false },
      { job: 'd', needs: 'b', requires_success: true },
      { job: 'd', needs: 'c', requires_success: true },
    ],
  };

  it('gives elkjs one node per job and one edge per need, from the need to the job that waits', () => {
    const input = layoutInput(graph);
    expect(input.layoutOptions).toMatchObject({ 'elk.algorithm': 'layered', 'elk.direction': 'RIGHT' });
    expect(input.children).toEqual(['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, width: NODE_WIDTH, height: NODE_HEIGHT })));
    expect(input.edges!.map((e) => [e.sources, e.targets])).toEqual([[['a'], ['b']], [['a'], ['c']], [['b'], ['d']], [['c'], ['d']]]);
    // Edge ids are unique even where keys could be confused by a separator ("a-b" → "c" vs "a" → "b-c").
    const tricky = layoutInput({ jobs: [], edges: [{ job: 'c', needs: 'a-b', requires_success: true }, { job: 'b-c', needs: 'a', requires_success: true }] });
    expect(new Set(tricky.edges!.map((e) => e.id)).size).toBe(2);
  });

  it('turns the layout into boxes in dependency order and routed edge paths, keeping requires_success', async () => {
    const laid = await new ELK().layout(layoutInput(graph));
    const drawing = toDrawing(laid, graph);
    const x = Object.fromEntries(drawing.nodes.map((n) => [n.key, n.x]));
    // Left to right: each job lies right of what it needs.
    expect(x.a).toBeLessThan(x.b);
    expect(x.b).toBeLessThan(x.d);
    expect(x.c).toBeLessThan(x.d);
    for (const n of drawing.nodes) {
      expect(n.x + n.width).toBeLessThanOrEqual(drawing.width);
      expect(n.y + n.height).toBeLessThanOrEqual(drawing.height);
    }
    expect(drawing.edges.map((e) => [e.from, e.to, e.requiresSuccess])).toEqual([['a', 'b', true], ['a', 'c', false], ['b', 'd', true], ['c', 'd', true]]);
    // Each path starts at its source box's right side and ends at its target's left side.
    for (const e of drawing.edges) {
      const [from, to] = [drawing.nodes.find((n) => n.key === e.from)!, drawing.nodes.find((n) => n.key === e.to)!];
      const points = [...e.path.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
      expect(e.path.startsWith('M')).toBe(true);
      expect(points[0][0]).toBeCloseTo(from.x + from.width, 0);
      expect(points[points.length - 1][0]).toBeCloseTo(to.x, 0);
    }
  });

  it('marks the edges the critical path walks, and keys the layout on the shape alone', () => {
    const hot = criticalEdges(['a', 'b', 'd']);
    expect([['a', 'b'], ['b', 'd'], ['a', 'c'], ['c', 'd']].map(([from, to]) => isCriticalEdge(hot, { from, to }))).toEqual([true, true, false, false]);
    expect(criticalEdges([]).size).toBe(0);
    // A status change keeps the key (no new layout); a new edge changes it.
    const running = { ...graph, jobs: graph.jobs.map((j) => ({ ...j, status: 'running' })) } as typeof graph;
    expect(shapeKey(running)).toBe(shapeKey(graph));
    expect(shapeKey({ ...graph, edges: [...graph.edges, { job: 'e', needs: 'a', requires_success: true }] })).not.toBe(shapeKey(graph));
  });

  it('polls a live pipeline every 1.5 s, slower for large ones, never less often than every 10 s', () => {
    expect([1, 75, 100, 500].map(pollInterval)).toEqual([1500, 1500, 2000, 10000]);
  });
});
