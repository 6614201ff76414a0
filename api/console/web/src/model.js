// What the console derives from a definition (its graph) and from a history (the
// visits of each state, and which visit each event belongs to).

// graphOf returns the nodes and edges of one level of a definition (the top level,
// a Parallel branch or a Map's item processor).
export function graphOf(level) {
  const nodes = [];
  const edges = [];
  if (!level || !level.States) return { nodes, edges };
  nodes.push({ id: '__start', name: 'Start', type: 'Start' });
  edges.push({ from: '__start', to: level.StartAt, kind: 'next' });
  let ends = false;
  for (const [name, st] of Object.entries(level.States)) {
    nodes.push({ id: name, name, type: st.Type, def: st });
    if (st.Next) edges.push({ from: name, to: st.Next, kind: 'next' });
    if (st.End || st.Type === 'Succeed' || st.Type === 'Fail') {
      edges.push({ from: name, to: '__end', kind: 'end' });
      ends = true;
    }
    if (st.Type === 'Choice') {
      const seen = new Set();
      (st.Choices || []).forEach((c, i) => {
        if (c.Next && !seen.has(c.Next)) {
          seen.add(c.Next);
          edges.push({ from: name, to: c.Next, kind: 'choice', label: `rule ${i + 1}` });
        }
      });
      if (st.Default) edges.push({ from: name, to: st.Default, kind: 'default', label: 'default' });
    }
    for (const c of st.Catch || []) if (c.Next) edges.push({ from: name, to: c.Next, kind: 'catch', label: 'catch' });
  }
  if (ends) nodes.push({ id: '__end', name: 'End', type: 'End' });
  const ids = new Set(nodes.map((n) => n.id));
  return { nodes, edges: edges.filter((e) => ids.has(e.from) && ids.has(e.to)) };
}

// children lists the nested levels of a Parallel (its branches) or Map (its item
// processor) state.
export function children(st) {
  if (!st) return [];
  if (st.Type === 'Parallel') return st.Branches || [];
  if (st.Type === 'Map') return [st.ItemProcessor || st.Iterator].filter(Boolean);
  return [];
}

// levelOf finds the level (object with States) that holds state name, searching
// nested branches.
export function findState(level, name) {
  if (!level || !level.States) return null;
  if (level.States[name]) return level.States[name];
  for (const st of Object.values(level.States)) for (const c of children(st)) {
    const f = findState(c, name);
    if (f) return f;
  }
  return null;
}

const SCHEDULED = new Set(['ActivityScheduled', 'TaskScheduled', 'LambdaFunctionScheduled']);
const SUCCEEDED = new Set(['ActivitySucceeded', 'TaskSucceeded', 'LambdaFunctionSucceeded']);
const TERMINAL = {
  ExecutionSucceeded: 'SUCCEEDED', ExecutionFailed: 'FAILED', ExecutionAborted: 'ABORTED', ExecutionTimedOut: 'TIMED_OUT',
};

function failureOf(e) {
  const t = e.type;
  if (!/(Failed|TimedOut)$/.test(t) || t.startsWith('Execution') || t.startsWith('MapIteration')) return null;
  const d = e[t[0].toLowerCase() + t.slice(1) + 'EventDetails'] || {};
  return { error: d.error || '', cause: d.cause || '' };
}

// stepsOf derives the visits of states from a history, as the AWS console draws
// them: nesting comes from previousEventId chains and the Map iteration events (the
// same rules as sfnd's actors/audit timeline). It also returns, for every event,
// the visit it belongs to (-1: the execution itself).
export function stepsOf(events) {
  const n = events.length;
  const idx = new Map(); // event id -> index
  for (let i = 0; i < n; i++) idx.set(events[i].id, i);
  const steps = [];
  const stepOf = new Map(); // StateEntered id -> step
  const exitOf = new Map(); // StateExited id -> step
  const open = new Map(); // state name -> Set of open step indexes (insertion order)
  const owner = new Int32Array(n).fill(-1);
  const out = { steps, owner, status: 'RUNNING', error: '', cause: '', output: undefined, start: 0, end: 0 };
  const ev = (id) => {
    const i = idx.get(id);
    return i === undefined ? null : events[i];
  };
  const ctxOfStep = (i) => [steps[i].parent, steps[i].iteration];
  const ownerOf = (prev) => {
    for (let k = 0; prev > 0 && k < n; k++) {
      const e = ev(prev);
      if (!e) return -1;
      const s = stepOf.get(e.id);
      if (s !== undefined && !steps[s].exitId) return s;
      const x = exitOf.get(e.id);
      if (x !== undefined) return ctxOfStep(x)[0];
      // Memo: the event's own owner, while that visit is still open.
      const o = owner[idx.get(e.id)];
      if (o >= 0 && !steps[o].exitId && s === undefined) return o;
      prev = e.previousEventId;
    }
    return -1;
  };
  const openMap = (name, id) => {
    let found = -1;
    for (const k of open.get(name) || []) {
      const s = steps[k];
      if (s.type === 'Map' && s.eventId < id) found = k;
    }
    return found;
  };
  const context = (prev) => {
    for (let k = 0; prev > 0 && k < n; k++) {
      const e = ev(prev);
      if (!e) break;
      const x = exitOf.get(e.id);
      if (x !== undefined) return ctxOfStep(x);
      const s = stepOf.get(e.id);
      if (s !== undefined) {
        if (!steps[s].exitId && (steps[s].type === 'Map' || steps[s].type === 'Parallel')) return [s, -1];
        return ctxOfStep(s);
      }
      if (e.type === 'ParallelStateStarted') return [ownerOf(e.previousEventId), -1];
      if (e.type === 'MapIterationStarted') {
        const d = e.mapIterationStartedEventDetails || {};
        return [openMap(d.name || '', e.id), d.index ?? -1];
      }
      prev = e.previousEventId;
    }
    return [-1, -1];
  };
  const pair = (name, prev) => {
    const set = open.get(name);
    if (!set || set.size === 0) return -1;
    if (set.size === 1) return set.values().next().value;
    for (let k = 0; prev > 0 && k < n; k++) {
      const s = stepOf.get(prev);
      if (s !== undefined && steps[s].name === name && !steps[s].exitId) return s;
      const e = ev(prev);
      if (!e) break;
      prev = e.previousEventId;
    }
    let last = -1;
    for (const k of set) last = k;
    return last;
  };
  const t0 = n ? Date.parse(events[0].timestamp) || events[0].timestamp * 1000 : 0;
  out.start = t0;
  for (let i = 0; i < n; i++) {
    const e = events[i];
    const t = e.type;
    const ts = typeof e.timestamp === 'number' ? e.timestamp * 1000 : Date.parse(e.timestamp);
    out.end = ts;
    if (t.endsWith('StateEntered')) {
      const d = e.stateEnteredEventDetails || {};
      const [parent, iteration] = context(e.previousEventId);
      const depth = parent >= 0 ? steps[parent].depth + 1 : 0;
      steps.push({
        index: steps.length, eventId: e.id, exitId: 0, parent, depth, iteration, name: d.name, type: t.slice(0, -'StateEntered'.length),
        input: d.input, output: undefined, error: '', cause: '', attempts: 0, failures: 0, lastOutcome: '', entered: ts, exited: 0,
      });
      const s = steps.length - 1;
      stepOf.set(e.id, s);
      if (!open.has(d.name)) open.set(d.name, new Set());
      open.get(d.name).add(s);
      owner[i] = s;
      continue;
    }
    if (t.endsWith('StateExited')) {
      const d = e.stateExitedEventDetails || {};
      const s = pair(d.name, e.previousEventId);
      owner[i] = s;
      if (s < 0) continue;
      Object.assign(steps[s], { exitId: e.id, output: d.output, exited: ts });
      exitOf.set(e.id, s);
      open.get(d.name).delete(s);
      continue;
    }
    const o = ownerOf(e.previousEventId);
    owner[i] = o;
    if (TERMINAL[t]) {
      out.status = TERMINAL[t];
      const d = e[t[0].toLowerCase() + t.slice(1) + 'EventDetails'] || {};
      if (t === 'ExecutionSucceeded') out.output = d.output;
      else {
        out.error = d.error || '';
        out.cause = d.cause || '';
        if (o >= 0 && !steps[o].error && t === 'ExecutionFailed') Object.assign(steps[o], { error: out.error, cause: out.cause, lastOutcome: 'failed' });
      }
      continue;
    }
    if (o < 0) continue;
    const st = steps[o];
    if (SCHEDULED.has(t)) {
      st.attempts++;
      st.lastOutcome = 'scheduled';
    } else if (SUCCEEDED.has(t)) {
      st.lastOutcome = 'succeeded';
    } else if (t === 'ParallelStateFailed' || t === 'MapStateFailed' || t === 'MapRunFailed') {
      st.lastOutcome = 'failed';
      st.failures++;
      const f = failureOf(e);
      if (f && f.error) Object.assign(st, f);
    } else {
      const f = failureOf(e);
      if (f) {
        Object.assign(st, f);
        st.failures++;
        st.lastOutcome = 'failed';
      }
    }
  }
  const running = out.status === 'RUNNING';
  for (const s of steps) s.status = statusOf(s, running);
  return out;
}

function statusOf(s, running) {
  if (s.exitId) {
    if (s.failures > 0 && s.lastOutcome === 'failed') return 'caught';
    if (s.attempts > 1 || s.failures > 0) return 'retried';
    return 'succeeded';
  }
  if (s.lastOutcome === 'failed' || s.error) return running && s.lastOutcome !== 'failed' ? 'running' : 'failed';
  return running ? 'running' : 'cancelled';
}

// STATUS_ORDER ranks visit statuses when several visits of a state are shown as one
// node (the most telling wins).
const RANK = { failed: 6, running: 5, caught: 4, retried: 3, cancelled: 2, succeeded: 1 };

// nodeStatus sums up the visits of one state in one scope.
export function nodeStatus(visits) {
  if (!visits || !visits.length) return 'notreached';
  const last = visits[visits.length - 1];
  let s = last.status;
  for (const v of visits) if (v.status === 'retried' || v.status === 'caught') s = RANK[s] >= RANK[v.status] ? s : v.status;
  return s;
}

// visitsIn groups the visits whose parent is parent (and, inside a Map, whose
// iteration is iteration) by state name.
export function visitsIn(steps, parent, iteration) {
  const m = new Map();
  for (const s of steps) {
    if (s.parent !== parent) continue;
    if (iteration !== undefined && iteration >= 0 && s.iteration !== iteration) continue;
    if (!m.has(s.name)) m.set(s.name, []);
    m.get(s.name).push(s);
  }
  return m;
}
