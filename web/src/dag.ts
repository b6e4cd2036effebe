import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import type { PipelineView } from '../../common/schemas/pipelines';

/**
 * A pipeline's DAG for the console: the graph handed to elkjs's layered layout, and what its answer
 * becomes for drawing (boxes and routed edges, with the critical path marked). Plain data, no DOM,
 * so it is unit-tested in node with the same elkjs build the browser loads.
 */

export const NODE_WIDTH = 160;
export const NODE_HEIGHT = 44;

type Graph = Pick<PipelineView, 'jobs' | 'edges'>;

export interface DagNode {
  key: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DagEdge {
  /** The job waited for (`needs`) and the job that waits (`job`): edges point the way work flows. */
  from: string;
  to: string;
  requiresSuccess: boolean;
  /** The routed polyline, as an SVG path. */
  path: string;
}

export interface DagDrawing {
  width: number;
  height: number;
  nodes: DagNode[];
  edges: DagEdge[];
}

const edgeId = (from: string, to: string) => `${from}\u0000${to}`;

/**
 * The elkjs graph of a pipeline: one node per job (by key, in submission order, which elk keeps
 * among equals so the picture is stable), one edge per need, flowing left to right.
 */
export function layoutInput(graph: Graph): ElkNode {
  return {
    id: 'pipeline',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '48',
      'elk.spacing.nodeNode': '20',
      'elk.padding': '[top=12,left=12,bottom=12,right=12]',
    },
    children: graph.jobs.map((j) => ({ id: j.key, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: graph.edges.map((e): ElkExtendedEdge => ({ id: edgeId(e.needs, e.job), sources: [e.needs], targets: [e.job] })),
  };
}

/**
 * What only the graph's shape decides: the layout is computed again only when this changes, never
 * for a status change (a live page re-colours its nodes in place).
 */
export const shapeKey = (graph: Graph): string => JSON.stringify([graph.jobs.map((j) => j.key), graph.edges.map((e) => [e.needs, e.job])]);

/** elkjs's answer as boxes and SVG paths (a flat graph: every coordinate is the root's). */
export function toDrawing(laid: ElkNode, graph: Graph): DagDrawing {
  const required = new Map(graph.edges.map((e) => [edgeId(e.needs, e.job), e.requires_success]));
  return {
    width: Math.ceil(laid.width ?? 0),
    height: Math.ceil(laid.height ?? 0),
    nodes: (laid.children ?? []).map((n) => ({ key: n.id, x: n.x ?? 0, y: n.y ?? 0, width: n.width ?? NODE_WIDTH, height: n.height ?? NODE_HEIGHT })),
    edges: (laid.edges ?? []).map((e) => {
      const points = (e.sections ?? []).flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]);
      return {
        from: e.sources[0],
        to: e.targets[0],
        requiresSuccess: required.get(e.id) ?? true,
        path: points.map((p, i) => `${i ? 'L' : 'M'}${round(p.x)},${round(p.y)}`).join(' '),
      };
    }),
  };
}

const round = (v: number) => Math.round(v * 10) / 10;

/** The edges the critical path walks: each job of the chain and the one before it. */
export function criticalEdges(path: readonly string[]): Set<string> {
  return new Set(path.slice(1).map((key, i) => edgeId(path[i], key)));
}

export const isCriticalEdge = (edges: Set<string>, e: Pick<DagEdge, 'from' | 'to'>) => edges.has(edgeId(e.from, e.to));

/**
 * How often a live pipeline page polls its view: every 1.5 s for pipelines of up to 75 jobs, then
 * slower in proportion to the size of the answer (a 500-job view is some 300 kB), at most every 10 s.
 */
export const pollInterval = (jobs: number): number => Math.min(10000, Math.max(1500, jobs * 20));
