// Glue workflows: served once sfnd answers AWSGlue.* operations (the page checks
// DescribeConsole's list of targets first).
import { useEffect, useMemo } from 'preact/hooks';
import dagre from '@dagrejs/dagre';
import { call, served } from './api.js';
import { ErrorBox, Link, Spinner, Status, fmtTime, useAsync } from './ui.jsx';

const wfHref = (name) => '/glue/workflows/' + encodeURIComponent(name);
const runHref = (name, id) => wfHref(name) + '/runs/' + encodeURIComponent(id);
const glue = (op, input) => call('AWSGlue.' + op, input);

async function needGlue() {
  const s = await served();
  if (![...s].some((t) => t.startsWith('AWSGlue.'))) {
    const e = new Error('This sfnd does not serve the Glue API yet.');
    e.type = 'NotServed';
    throw e;
  }
}

export function GlueWorkflows() {
  const [names, err, loading] = useAsync(async () => {
    await needGlue();
    let out = [];
    let token;
    do {
      const r = await glue('ListWorkflows', token ? { NextToken: token } : {});
      out = out.concat(r.Workflows || []);
      token = r.NextToken;
    } while (token);
    return out;
  }, []);
  return (
    <section>
      <h1>Glue workflows</h1>
      <ErrorBox err={err} />
      {loading && !names ? <Spinner /> : null}
      {names && !names.length ? <p class="muted">No workflows yet (CreateWorkflow).</p> : null}
      {names && names.length ? <table class="list" id="glue-table"><thead><tr><th>Workflow</th></tr></thead>
        <tbody>{names.map((n) => <tr><td><Link href={wfHref(n)}>{n}</Link></td></tr>)}</tbody></table> : null}
    </section>
  );
}

// GlueGraph draws a Glue workflow graph (Nodes and Edges of GetWorkflow or
// GetWorkflowRun with IncludeGraph).
function GlueGraph({ graph }) {
  const lay = useMemo(() => {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 50, marginx: 12, marginy: 12 });
    g.setDefaultEdgeLabel(() => ({}));
    const nodes = (graph && graph.Nodes) || [];
    for (const n of nodes) g.setNode(n.UniqueId, { width: Math.max(100, 8 * (n.Name || '').length + 20), height: 40 });
    for (const e of (graph && graph.Edges) || []) if (g.hasNode(e.SourceId) && g.hasNode(e.DestinationId)) g.setEdge(e.SourceId, e.DestinationId);
    dagre.layout(g);
    return { g, nodes, w: g.graph().width || 100, h: g.graph().height || 60 };
  }, [graph]);
  const stateOf = (n) => {
    const runs = (n.JobDetails && n.JobDetails.JobRuns) || [];
    if (runs.length) return runs[runs.length - 1].JobRunState;
    const cr = (n.CrawlerDetails && n.CrawlerDetails.Crawls) || [];
    if (cr.length) return cr[cr.length - 1].State;
    return '';
  };
  const cls = (s) => ({ SUCCEEDED: 'succeeded', FAILED: 'failed', ERROR: 'failed', TIMEOUT: 'failed', RUNNING: 'running', STARTING: 'running', STOPPED: 'cancelled' }[s] || 'notreached');
  return (
    <div class="graph-wrap" id="glue-graph"><svg class="graph" width={lay.w} height={lay.h}>
      <defs><marker id="garrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="#7a8699" /></marker></defs>
      {lay.g.edges().map((e) => {
        const p = lay.g.edge(e).points || [];
        return <g class="edge edge-next"><path d={p.map((q, i) => `${i ? 'L' : 'M'}${q.x},${q.y}`).join(' ')} marker-end="url(#garrow)" /></g>;
      })}
      {lay.nodes.map((n) => {
        const p = lay.g.node(n.UniqueId);
        const s = stateOf(n);
        return (
          <g class={'node st-' + (n.Type === 'TRIGGER' ? 'plain' : cls(s))} data-node={n.Name} data-type={n.Type}>
            <rect x={p.x - p.width / 2} y={p.y - p.height / 2} width={p.width} height={p.height} rx={n.Type === 'TRIGGER' ? 18 : 5} />
            <text class="name" x={p.x} y={p.y - 2} text-anchor="middle">{n.Name}</text>
            <text class="type" x={p.x} y={p.y + 12} text-anchor="middle">{n.Type}{s ? ' · ' + s : ''}</text>
          </g>
        );
      })}
    </svg></div>
  );
}

export function GlueWorkflow({ name }) {
  const [d, err] = useAsync(async () => {
    await needGlue();
    const ops = await served();
    const [wf, runs] = await Promise.all([
      glue('GetWorkflow', { Name: name, IncludeGraph: true }),
      ops.has('AWSGlue.GetWorkflowRuns') ? glue('GetWorkflowRuns', { Name: name, MaxResults: 100 }) : null,
    ]);
    return { wf: wf.Workflow || {}, runs: runs ? runs.Runs || [] : null };
  }, [name]);
  if (err) return <section><h1>{name}</h1><ErrorBox err={err} /></section>;
  if (!d) return <Spinner />;
  return (
    <section>
      <div class="crumbs"><Link href="/glue/workflows">Glue workflows</Link> ›</div>
      <h1>{name}</h1>
      {d.wf.Description ? <p>{d.wf.Description}</p> : null}
      <GlueGraph graph={d.wf.Graph} />
      <h3>Runs</h3>
      {d.runs === null ? <p class="muted">This sfnd does not serve workflow runs (GetWorkflowRuns) yet.</p> : d.runs.length ? (
        <table class="list" id="glue-runs"><thead><tr><th>Run</th><th>Status</th><th>Started</th><th>Completed</th></tr></thead>
          <tbody>{d.runs.map((r) => <tr><td><Link href={runHref(name, r.WorkflowRunId)}>{r.WorkflowRunId}</Link></td><td><Status s={r.Status} /></td><td>{fmtTime(r.StartedOn)}</td><td>{fmtTime(r.CompletedOn)}</td></tr>)}</tbody>
        </table>
      ) : <p class="muted">No runs yet.</p>}
    </section>
  );
}

export function GlueRun({ name, runId }) {
  const [r, err, , reload] = useAsync(async () => {
    await needGlue();
    return (await glue('GetWorkflowRun', { Name: name, RunId: runId, IncludeGraph: true })).Run || {};
  }, [name, runId]);
  // Follow a run that has not ended.
  const live = r && (r.Status === 'RUNNING' || r.Status === 'STOPPING');
  useEffect(() => {
    if (!live) return;
    const t = setTimeout(reload, 1500);
    return () => clearTimeout(t);
  }, [r]);
  if (err) return <section><h1>{runId}</h1><ErrorBox err={err} /></section>;
  if (!r) return <Spinner />;
  const jobs = ((r.Graph && r.Graph.Nodes) || []).filter((n) => n.JobDetails && n.JobDetails.JobRuns);
  return (
    <section>
      <div class="crumbs"><Link href="/glue/workflows">Glue workflows</Link> › <Link href={wfHref(name)}>{name}</Link> ›</div>
      <h1>{runId} <Status s={r.Status} />{live ? <span class="live">● live</span> : null}</h1>
      <dl class="facts"><dt>Started</dt><dd>{fmtTime(r.StartedOn)}</dd><dt>Completed</dt><dd>{fmtTime(r.CompletedOn) || '—'}</dd>
        {r.Statistics ? <><dt>Actions</dt><dd id="glue-stats">{['Total', 'Succeeded', 'Failed', 'Running', 'Stopped', 'TimedOut', 'Errored', 'Waiting'].filter((k) => r.Statistics[k + 'Actions']).map((k) => `${r.Statistics[k + 'Actions']} ${k.toLowerCase()}`).join(', ') || '0'}</dd></> : null}
        {r.ErrorMessage ? <><dt>Error</dt><dd>{r.ErrorMessage}</dd></> : null}</dl>
      <GlueGraph graph={r.Graph} />
      <h3>Job runs</h3>
      <table class="list" id="glue-jobruns"><thead><tr><th>Node</th><th>Job run</th><th>State</th><th>Started</th><th>Completed</th><th>Error</th></tr></thead>
        <tbody>{jobs.flatMap((n) => n.JobDetails.JobRuns.map((j) => <tr><td>{n.Name}</td><td class="mono">{j.Id}</td><td><Status s={j.JobRunState} /></td><td>{fmtTime(j.StartedOn)}</td><td>{fmtTime(j.CompletedOn)}</td><td>{j.ErrorMessage || ''}</td></tr>))}</tbody>
      </table>
    </section>
  );
}
