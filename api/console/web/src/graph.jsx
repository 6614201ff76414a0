// A definition's graph, laid out by dagre and drawn as SVG.
import { useMemo } from 'preact/hooks';
import dagre from '@dagrejs/dagre';
import { graphOf } from './model.js';

const NODE_H = 38;

function width(n) {
  return Math.max(90, Math.min(320, 16 + 7.4 * Math.max(n.name.length, (n.type || '').length + 2)));
}

export function layout(level) {
  const { nodes, edges } = graphOf(level);
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 44, edgesep: 12, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: n.type === 'Start' || n.type === 'End' ? 70 : width(n), height: n.type === 'Start' || n.type === 'End' ? 28 : NODE_H });
  edges.forEach((e, i) => g.setEdge(e.from, e.to, { label: e.label, width: e.label ? 7 * e.label.length : 0, height: e.label ? 14 : 0, labelpos: 'c' }, 'e' + i));
  dagre.layout(g);
  const gr = g.graph();
  return {
    width: gr.width || 200,
    height: gr.height || 100,
    nodes: nodes.map((n) => ({ ...n, ...g.node(n.id) })),
    edges: edges.map((e, i) => ({ ...e, ...g.edge({ v: e.from, w: e.to, name: 'e' + i }) })),
  };
}

function path(points) {
  if (!points || !points.length) return '';
  let d = `M${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length; i++) d += ` L${points[i].x},${points[i].y}`;
  return d;
}

// Graph draws one level of a definition. status(name) gives a node's status class,
// badge(name) a small text in its corner; onSelect(name) is called on a click.
export function Graph({ level, status, badge, selected, onSelect }) {
  const lay = useMemo(() => layout(level), [level]);
  return (
    <div class="graph-wrap">
      <svg class="graph" width={lay.width} height={lay.height} viewBox={`0 0 ${lay.width} ${lay.height}`} role="img" aria-label="state machine graph">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#7a8699" />
          </marker>
        </defs>
        {lay.edges.map((e) => (
          <g class={'edge edge-' + e.kind}>
            <path d={path(e.points)} marker-end="url(#arrow)" />
            {e.label && e.x !== undefined ? <text x={e.x} y={e.y + 4} text-anchor="middle">{e.label}</text> : null}
          </g>
        ))}
        {lay.nodes.map((n) => {
          const x = n.x - n.width / 2;
          const y = n.y - n.height / 2;
          if (n.type === 'Start' || n.type === 'End') {
            return (
              <g class="node node-terminal">
                <rect x={x} y={y} width={n.width} height={n.height} rx={14} />
                <text x={n.x} y={n.y + 4} text-anchor="middle">{n.name}</text>
              </g>
            );
          }
          const st = status ? status(n.id) : 'plain';
          const b = badge && badge(n.id);
          const nested = n.type === 'Parallel' || n.type === 'Map';
          return (
            <g class={`node st-${st}${selected === n.id ? ' selected' : ''}${nested ? ' nested' : ''}`} data-state={n.id} data-status={st} onClick={() => onSelect && onSelect(n.id)}>
              <title>{`${n.name} (${n.type}) ${st === 'plain' ? '' : st}`}</title>
              <rect x={x} y={y} width={n.width} height={n.height} rx={5} />
              <text class="name" x={n.x} y={n.y - 2} text-anchor="middle">{n.name}</text>
              <text class="type" x={n.x} y={n.y + 12} text-anchor="middle">{n.type}{nested ? ' ▸' : ''}</text>
              {b ? <text class="badge" x={x + n.width - 4} y={y + 11} text-anchor="end">{b}</text> : null}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
