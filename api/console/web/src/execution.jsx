import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { call, served } from './api.js';
import { Graph } from './graph.jsx';
import { children, nodeStatus, stepsOf, visitsIn } from './model.js';
import { ErrorBox, JsonView, Link, Spinner, Status, Tabs, VirtualRows, fmtDur, fmtMs, fmtTime, pretty, smHref, toMillis } from './ui.jsx';

// loadHistory reads a whole history, oldest first, in one call (the console's
// read of the same history GetExecutionHistory pages through).
async function loadHistory(arn) {
  const r = await call('SfndConsole.GetExecutionHistory', { executionArn: arn });
  loadHistory.readMs = r.readMillis || 0;
  return r.events || [];
}

// newerEvents reads the events after lastId.
async function newerEvents(arn, lastId) {
  return (await call('SfndConsole.GetExecutionHistory', { executionArn: arn, afterEventId: lastId })).events || [];
}

const TERMINAL = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);
const POLL_MS = 1000;

export function ExecutionPage({ arn }) {
  const [desc, setDesc] = useState(null);
  const [def, setDef] = useState(null);
  const [events, setEvents] = useState(null);
  const [err, setErr] = useState(null);
  const [loadMs, setLoadMs] = useState(0);
  const [readMs, setReadMs] = useState(0);
  const shown = useRef(null);
  const [ops, setOps] = useState(new Set());
  const [gen, setGen] = useState(0); // bumps to restart the live follow after a redrive
  const evRef = useRef(null);
  evRef.current = events;

  useEffect(() => {
    let live = true;
    const t0 = performance.now();
    setErr(null);
    setEvents(null);
    setDesc(null);
    served().then((s) => live && setOps(s), () => {});
    Promise.all([
      call('DescribeExecution', { executionArn: arn }),
      call('DescribeStateMachineForExecution', { executionArn: arn }).catch(() => null),
      loadHistory(arn),
    ]).then(([d, smd, evs]) => {
      if (!live) return;
      setDesc(d);
      try {
        setDef(smd ? JSON.parse(smd.definition) : null);
      } catch {
        setDef(null);
      }
      setEvents(evs);
      setLoadMs(performance.now() - t0);
      setReadMs(loadHistory.readMs);
    }, (e) => live && setErr(e));
    return () => {
      live = false;
    };
  }, [arn]);

  // Live follow: while the history has no terminal event, poll for new events.
  const running = events && (!events.length || !TERMINAL.has(events[events.length - 1].type));
  useEffect(() => {
    if (!running) return;
    let live = true;
    let timer;
    const tick = async () => {
      const t0 = performance.now();
      try {
        const cur = evRef.current || [];
        const lastId = cur.length ? cur[cur.length - 1].id : 0;
        const more = await newerEvents(arn, lastId);
        if (!live) return;
        if (more.length) {
          const next = cur.concat(more);
          setEvents(next);
          if (TERMINAL.has(next[next.length - 1].type)) {
            setDesc(await call('DescribeExecution', { executionArn: arn }));
            return;
          }
        }
      } catch (e) {
        // A failed poll is retried at the next tick.
      }
      // Poll at most every second, and back off on a history slow to read.
      if (live) timer = setTimeout(tick, Math.max(POLL_MS, 2 * (performance.now() - t0)));
    };
    timer = setTimeout(tick, POLL_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [arn, running, gen]);

  const hist = useMemo(() => (events ? stepsOf(events) : null), [events]);
  // Page timing: when the page first showed the whole execution (ms since navigation).
  useEffect(() => {
    if (hist && desc && shown.current === null) {
      shown.current = performance.now();
      const el = document.querySelector('section.exec');
      if (el) el.dataset.shownMs = String(Math.round(shown.current));
    }
  }, [hist, desc]);

  if (err) return <section><h1>Execution</h1><ErrorBox err={err} /></section>;
  if (!desc || !hist) return <Spinner />;
  const status = running ? 'RUNNING' : hist.status;
  return (
    <section class="exec" data-events={events.length} data-status={status} data-read-ms={readMs}>
      <div class="crumbs"><Link href="/">State machines</Link> › <Link href={smHref(desc.stateMachineArn)}>{desc.stateMachineArn.split(':').pop()}</Link> ›</div>
      <div class="head">
        <h1>{desc.name} <Status s={status} />{running ? <span class="live" title="following the history live">● live</span> : null}</h1>
        <Actions arn={arn} status={status} ops={ops} onChanged={async () => {
          setDesc(await call('DescribeExecution', { executionArn: arn }));
          setEvents(await loadHistory(arn));
          setGen(gen + 1);
        }} />
      </div>
      <dl class="facts">
        <dt>ARN</dt><dd class="mono">{desc.executionArn}</dd>
        <dt>Started</dt><dd>{fmtTime(desc.startDate)}</dd>
        <dt>Ended</dt><dd>{fmtTime(desc.stopDate) || '—'}</dd>
        <dt>Duration</dt><dd>{fmtDur((desc.stopDate ? toMillis(desc.stopDate) : hist.end) - toMillis(desc.startDate))}</dd>
        <dt>Events</dt><dd id="event-count">{events.length.toLocaleString()} <span class="muted">(loaded in {fmtDur(loadMs)}, of which {fmtDur(readMs)} reading the store)</span></dd>
        {desc.redriveCount ? <><dt>Redrives</dt><dd>{desc.redriveCount}</dd></> : null}
      </dl>
      {hist.error || hist.cause || desc.error ? (
        <div class="failure" id="exec-error">
          <div><b>Error</b> <span class="mono" id="exec-error-name">{hist.error || desc.error}</span></div>
          <div><b>Cause</b> <span class="cause" id="exec-error-cause">{hist.cause || desc.cause}</span></div>
        </div>
      ) : null}
      <Explorer def={def} hist={hist} events={events} />
    </section>
  );
}

function Actions({ arn, status, ops, onChanged }) {
  const [confirm, setConfirm] = useState(false);
  const [err, setErr] = useState(null);
  const [verify, setVerify] = useState(null);
  const [busy, setBusy] = useState(false);
  const act = async (fn) => {
    setErr(null);
    setBusy(true);
    try {
      await fn();
      await onChanged();
    } catch (e) {
      setErr(e);
    }
    setBusy(false);
  };
  const canRedrive = ops.has('AWSStepFunctions.RedriveExecution');
  return (
    <div class="actions">
      {status === 'RUNNING' ? (confirm
        ? <><button class="danger" id="stop-confirm" disabled={busy} onClick={() => act(() => call('StopExecution', { executionArn: arn, error: 'Console.Stopped', cause: 'Stopped from the sfnd console' }))}>Confirm stop</button><button onClick={() => setConfirm(false)}>Cancel</button></>
        : <button class="danger" id="stop" onClick={() => setConfirm(true)}>Stop</button>) : null}
      {canRedrive ? <button id="redrive" disabled={busy || !['FAILED', 'TIMED_OUT', 'ABORTED'].includes(status)} onClick={() => act(() => call('RedriveExecution', { executionArn: arn }))}>Redrive</button> : null}
      <button id="verify" disabled={busy} title="Re-run the decider over this history and compare every decision (sfnd history verify)" onClick={async () => {
        setVerify({ pending: true });
        try {
          setVerify(await call('SfndConsole.VerifyExecutionHistory', { executionArn: arn }));
        } catch (e) {
          setVerify({ err: e });
        }
      }}>Verify this history</button>
      <ErrorBox err={err} />
      {verify ? <VerifyResult v={verify} /> : null}
    </div>
  );
}

function VerifyResult({ v }) {
  if (v.pending) return <div class="verify muted" id="verify-result">Verifying…</div>;
  if (v.err) return <div class="verify"><ErrorBox err={v.err} /></div>;
  if (v.fault) {
    return (
      <div class="verify bad" id="verify-result" data-ok="false">
        <b>Fault</b> at event {v.fault.eventId} (decision at event {v.fault.decision}): {v.fault.message}
        {v.fault.field ? <div class="mono">{v.fault.field}: recorded {v.fault.recorded}, decided {v.fault.decided}</div> : null}
      </div>
    );
  }
  if (v.unverifiable) return <div class="verify warn" id="verify-result" data-ok="unverifiable">Cannot verify: {v.unverifiable}</div>;
  return <div class="verify good" id="verify-result" data-ok="true">✓ {v.events.toLocaleString()} events, {v.decisions.toLocaleString()} decisions re-decided identically ({v.tookMillis} ms)</div>;
}

// Explorer is the graph (with its scope: top level, a Parallel branch or a Map
// iteration), the selected state's details and the tabs below.
function Explorer({ def, hist, events }) {
  const [scope, setScope] = useState([]); // stack of {parent, iteration, level, label, state}
  const [sel, setSel] = useState(null);
  const [tab, setTab] = useState('events');
  const [evFilter, setEvFilter] = useState({ type: '', state: '' });
  const cur = scope.length ? scope[scope.length - 1] : { parent: -1, iteration: undefined, level: def };
  const visits = useMemo(() => visitsIn(hist.steps, cur.parent, cur.iteration), [hist, cur.parent, cur.iteration]);
  const status = useCallback((name) => nodeStatus(visits.get(name)), [visits]);
  const badge = useCallback((name) => {
    const v = visits.get(name);
    if (!v) return '';
    const att = v.reduce((a, s) => Math.max(a, s.attempts), 0);
    return (v.length > 1 ? `×${v.length}` : '') + (att > 1 ? ` ↻${att - 1}` : '');
  }, [visits]);
  const enter = (name, level, iteration, label) => {
    const vs = visits.get(name) || [];
    const last = vs[vs.length - 1];
    setScope([...scope, { parent: last ? last.index : -2, iteration, level, label, state: name }]);
    setSel(null);
  };
  const stateDef = sel && cur.level && cur.level.States ? cur.level.States[sel] : null;
  return (
    <div>
      <div class="scope" id="scope">
        <button class="link" onClick={() => { setScope([]); setSel(null); }}>Top level</button>
        {scope.map((s, i) => <> › <button class="link" onClick={() => { setScope(scope.slice(0, i + 1)); setSel(null); }}>{s.label}</button></>)}
        {scope.length && cur.iteration !== undefined ? <IterationPicker hist={hist} cur={cur} onPick={(it) => setScope([...scope.slice(0, -1), { ...cur, iteration: it, label: `${cur.state} iteration ${it}` }])} /> : null}
      </div>
      <div class="split">
        <div class="graph-pane">
          {cur.level ? <Graph level={cur.level} status={status} badge={badge} selected={sel} onSelect={setSel} /> : <p class="muted">The definition is not available.</p>}
          <Legend />
        </div>
        <div class="side">
          {sel ? <StateDetails name={sel} def={stateDef} visits={visits.get(sel) || []} hist={hist} onEnter={enter} onEvents={() => { setEvFilter({ type: '', state: sel }); setTab('events'); }} /> : <p class="muted">Click a state to see its input, output, error, retries and timings.</p>}
        </div>
      </div>
      <Tabs value={tab} onChange={setTab} tabs={[['events', 'Events'], ['timeline', 'Timeline'], ['io', 'Input and output']]} />
      {tab === 'events' ? <EventTable events={events} hist={hist} filter={evFilter} setFilter={setEvFilter} /> : null}
      {tab === 'timeline' ? <Gantt hist={hist} onPick={(s) => s.parent === cur.parent ? setSel(s.name) : null} /> : null}
      {tab === 'io' ? <IO hist={hist} events={events} /> : null}
    </div>
  );
}

function Legend() {
  return (
    <div class="legend">
      {['succeeded', 'failed', 'caught', 'retried', 'running', 'cancelled', 'notreached'].map((s) => <span class={'key st-' + s}><i />{s === 'notreached' ? 'not reached' : s}</span>)}
    </div>
  );
}

function IterationPicker({ hist, cur, onPick }) {
  const its = useMemo(() => {
    const m = new Map();
    for (const s of hist.steps) {
      if (s.parent !== cur.parent || s.iteration < 0) continue;
      const bad = s.status === 'failed';
      m.set(s.iteration, (m.get(s.iteration) || false) || bad);
    }
    return [...m.entries()].sort((a, b) => a[0] - b[0]);
  }, [hist, cur.parent]);
  if (!its.length) return <span class="muted"> (no iteration ran)</span>;
  const pos = its.findIndex(([i]) => i === cur.iteration);
  const firstFailed = its.find(([, bad]) => bad);
  return (
    <span class="picker">
      {' '}Iteration{' '}
      <button class="small" disabled={pos <= 0} onClick={() => onPick(its[pos - 1][0])}>‹</button>
      <select id="iteration" value={cur.iteration} onChange={(e) => onPick(Number(e.currentTarget.value))}>
        {its.slice(0, 5000).map(([i, bad]) => <option value={i}>{i}{bad ? ' (failed)' : ''}</option>)}
      </select>
      <button class="small" disabled={pos < 0 || pos >= its.length - 1} onClick={() => onPick(its[pos + 1][0])}>›</button>
      <span class="muted"> {its.length.toLocaleString()} iterations</span>
      {firstFailed ? <button class="small link" onClick={() => onPick(firstFailed[0])}>first failed</button> : null}
    </span>
  );
}

function StateDetails({ name, def, visits, hist, onEnter, onEvents }) {
  const [k, setK] = useState(-1);
  useEffect(() => setK(-1), [name]);
  const v = visits.length ? visits[k < 0 || k >= visits.length ? visits.length - 1 : k] : null;
  const kids = children(def);
  return (
    <div class="details" id="state-details" data-state={name}>
      <h3>{name} <span class="muted">{def ? def.Type : ''}</span> {v ? <Status s={v.status.toUpperCase()} /> : <Status s="NOT REACHED" />}</h3>
      {visits.length > 1 ? (
        <div>Visit <select value={k < 0 ? visits.length - 1 : k} onChange={(e) => setK(Number(e.currentTarget.value))}>
          {visits.map((s, i) => <option value={i}>{i + 1} of {visits.length} ({s.status})</option>)}
        </select></div>
      ) : null}
      {kids.length ? (
        <div class="nested-nav">
          {def.Type === 'Parallel'
            ? kids.map((b, i) => <button class="small" data-branch={i} onClick={() => onEnter(name, b, undefined, `${name} branch ${i + 1}`)}>Open branch {i + 1}</button>)
            : <button class="small" id="open-map" onClick={() => {
              const first = v ? hist.steps.find((s) => s.parent === v.index && s.iteration >= 0) : null;
              const it = first ? first.iteration : 0;
              onEnter(name, kids[0], it, `${name} iteration ${it}`);
            }}>Open iterations</button>}
        </div>
      ) : null}
      {v ? (
        <>
          <dl class="facts small">
            <dt>Entered</dt><dd>{fmtMs(v.entered)}</dd>
            <dt>Exited</dt><dd>{v.exited ? fmtMs(v.exited) : '—'}</dd>
            <dt>Duration</dt><dd>{fmtDur((v.exited || hist.end) - v.entered)}</dd>
            {v.attempts ? <><dt>Attempts</dt><dd id="state-attempts">{v.attempts} ({v.attempts - 1} {v.attempts === 2 ? 'retry' : 'retries'})</dd></> : null}
            {v.iteration >= 0 ? <><dt>Iteration</dt><dd>{v.iteration}</dd></> : null}
          </dl>
          {v.error || v.cause ? (
            <div class="failure small" id="state-error">
              <div><b>Error</b> <span class="mono">{v.error}</span></div>
              <div><b>Cause</b> <span class="cause">{v.cause}</span></div>
            </div>
          ) : null}
          <h4>Input</h4>
          <JsonView text={v.input} label="input" />
          <h4>Output</h4>
          <JsonView text={v.output} label="output" />
          <button class="link" onClick={onEvents}>Show its events</button>
        </>
      ) : <p class="muted">This state was not reached{visits.length ? '' : ' in this scope'}.</p>}
    </div>
  );
}

const ROW = 24;
const DETAIL = 280;

function EventTable({ events, hist, filter, setFilter }) {
  const [open, setOpen] = useState(() => new Set());
  const types = useMemo(() => [...new Set(events.map((e) => e.type))].sort(), [events]);
  const states = useMemo(() => [...new Set(hist.steps.map((s) => s.name))].sort(), [hist]);
  const rows = useMemo(() => {
    const out = [];
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      if (filter.type && e.type !== filter.type) continue;
      if (filter.state) {
        const o = hist.owner[i];
        if (o < 0 || hist.steps[o].name !== filter.state) continue;
      }
      out.push(i);
    }
    return out;
  }, [events, hist, filter]);
  const rowHeight = useCallback((r) => (open.has(rows[r]) ? ROW + DETAIL : ROW), [rows, open]);
  const toggle = (i) => {
    const s = new Set(open);
    if (s.has(i)) s.delete(i);
    else s.add(i);
    setOpen(s);
  };
  const t0 = hist.start;
  const render = (r) => {
    const i = rows[r];
    const e = events[i];
    const o = hist.owner[i];
    const ts = toMillis(e.timestamp);
    const isOpen = open.has(i);
    return (
      <div class={'erow' + (isOpen ? ' open' : '') + (/Failed|TimedOut|Aborted/.test(e.type) ? ' bad' : '')} data-type={e.type} data-id={e.id}>
        <div class="eline" onClick={() => toggle(i)}>
          <span class="c-id">{isOpen ? '▾' : '▸'} {e.id}</span>
          <span class="c-type">{e.type}</span>
          <span class="c-state">{o >= 0 ? hist.steps[o].name + (hist.steps[o].iteration >= 0 ? ` [${hist.steps[o].iteration}]` : '') : ''}</span>
          <span class="c-el">{fmtDur(ts - t0)}</span>
          <span class="c-ts">{fmtTime(e.timestamp)}</span>
        </div>
        {isOpen ? <pre class="edetail">{JSON.stringify(e, null, 2).slice(0, 20000)}</pre> : null}
      </div>
    );
  };
  return (
    <div class="events">
      <div class="toolbar">
        <label>Type <select id="ev-type" value={filter.type} onChange={(e) => setFilter({ ...filter, type: e.currentTarget.value })}>
          <option value="">Any</option>{types.map((t) => <option value={t}>{t}</option>)}
        </select></label>
        <label>State <select id="ev-state" value={filter.state} onChange={(e) => setFilter({ ...filter, state: e.currentTarget.value })}>
          <option value="">Any</option>{states.map((t) => <option value={t}>{t}</option>)}
        </select></label>
        <span class="muted" id="ev-shown">{rows.length.toLocaleString()} of {events.length.toLocaleString()} events</span>
      </div>
      <div class="ehead"><span class="c-id">ID</span><span class="c-type">Type</span><span class="c-state">State</span><span class="c-el">Elapsed</span><span class="c-ts">Timestamp</span></div>
      <VirtualRows count={rows.length} height={Math.min(480, rows.length * ROW + (open.size ? DETAIL : 0) + 2)} rowHeight={rowHeight} render={render} class="etable" />
    </div>
  );
}

const GROW = 22;

function Gantt({ hist, onPick }) {
  const steps = hist.steps;
  const end = Math.max(hist.end, ...[0]);
  const total = Math.max(1, end - hist.start);
  const render = (i) => {
    const s = steps[i];
    const l = ((s.entered - hist.start) / total) * 100;
    const w = Math.max(0.15, (((s.exited || end) - s.entered) / total) * 100);
    return (
      <div class="grow" data-state={s.name} onClick={() => onPick(s)}>
        <span class="g-name" style={{ paddingLeft: 4 + s.depth * 12 + 'px' }} title={s.name}>{s.name}{s.iteration >= 0 ? ` [${s.iteration}]` : ''}</span>
        <span class="g-track"><span class={'g-bar st-' + s.status} style={{ left: l + '%', width: w + '%' }} title={`${s.name}: ${fmtDur((s.exited || end) - s.entered)} (${s.status})`} /></span>
        <span class="g-dur">{fmtDur((s.exited || end) - s.entered)}</span>
      </div>
    );
  };
  if (!steps.length) return <p class="muted">No state was entered yet.</p>;
  return (
    <div class="gantt" id="gantt">
      <div class="ghead"><span class="g-name">State</span><span class="g-track">0 → {fmtDur(total)}</span><span class="g-dur">Duration</span></div>
      <VirtualRows count={steps.length} height={Math.min(480, steps.length * GROW + 2)} rowHeight={() => GROW} render={render} />
    </div>
  );
}

function IO({ hist, events }) {
  const input = events.length && events[0].executionStartedEventDetails ? events[0].executionStartedEventDetails.input : undefined;
  return (
    <div class="cols" id="io">
      <div><h3>Input</h3><JsonView text={input} label="input" /></div>
      <div><h3>Output</h3>{hist.status === 'SUCCEEDED' ? <JsonView text={hist.output} label="output" /> : <p class="muted">{hist.status === 'RUNNING' ? 'The execution is still running.' : `The execution ended ${hist.status}.`}</p>}</div>
    </div>
  );
}
export { pretty };
