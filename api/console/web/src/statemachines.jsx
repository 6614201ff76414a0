import { useMemo, useState } from 'preact/hooks';
import yaml from 'js-yaml';
import { all, call } from './api.js';
import { Graph } from './graph.jsx';
import { ErrorBox, Link, Spinner, Status, Tabs, execHref, fmtDur, fmtTime, navigate, smHref, toMillis, useAsync } from './ui.jsx';

export function StateMachineList() {
  const [q, setQ] = useState('');
  const [type, setType] = useState('');
  const [items, err, loading] = useAsync(() => all('ListStateMachines', { maxResults: 1000 }, 'stateMachines'), []);
  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return (items || [])
      .filter((m) => (!needle || m.name.toLowerCase().includes(needle) || m.stateMachineArn.toLowerCase().includes(needle)) && (!type || m.type === type))
      .sort((a, b) => toMillis(b.creationDate) - toMillis(a.creationDate));
  }, [items, q, type]);
  return (
    <section>
      <h1>State machines {items ? <span class="count">({items.length})</span> : null}</h1>
      <div class="toolbar">
        <input type="search" placeholder="Search by name or ARN" value={q} onInput={(e) => setQ(e.currentTarget.value)} aria-label="search state machines" id="sm-search" />
        <select value={type} onChange={(e) => setType(e.currentTarget.value)} aria-label="type" id="sm-type">
          <option value="">All types</option>
          <option value="STANDARD">Standard</option>
          <option value="EXPRESS">Express</option>
        </select>
      </div>
      <ErrorBox err={err} />
      {loading && !items ? <Spinner /> : null}
      {items && !shown.length ? <p class="muted">{items.length ? 'No state machine matches.' : 'No state machines yet. Create one with the AWS CLI or SDK (CreateStateMachine) against this endpoint.'}</p> : null}
      {shown.length ? (
        <table class="list" id="sm-table">
          <thead><tr><th>Name</th><th>Type</th><th>Created</th></tr></thead>
          <tbody>
            {shown.slice(0, 1000).map((m) => (
              <tr><td><Link href={smHref(m.stateMachineArn)}>{m.name}</Link></td><td>{m.type}</td><td>{fmtTime(m.creationDate)}</td></tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {shown.length > 1000 ? <p class="muted">Showing 1,000 of {shown.length.toLocaleString()}: refine the search.</p> : null}
    </section>
  );
}

const STATUSES = ['', 'RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];

export function StateMachinePage({ arn }) {
  const [tab, setTab] = useState('executions');
  const [sm, err, loading, reload] = useAsync(() => call('DescribeStateMachine', { stateMachineArn: arn }), [arn]);
  const def = useMemo(() => {
    try {
      return sm ? JSON.parse(sm.definition) : null;
    } catch {
      return null;
    }
  }, [sm]);
  const [showStart, setShowStart] = useState(false);
  if (err) return <section><h1>State machine</h1><ErrorBox err={err} /></section>;
  if (loading && !sm) return <Spinner />;
  return (
    <section>
      <div class="crumbs"><Link href="/">State machines</Link> ›</div>
      <div class="head">
        <h1>{sm.name}</h1>
        <div class="actions"><button class="primary" id="start-open" onClick={() => setShowStart(!showStart)}>Start execution</button></div>
      </div>
      <dl class="facts">
        <dt>ARN</dt><dd class="mono">{sm.stateMachineArn}</dd>
        <dt>Type</dt><dd>{sm.type}</dd>
        <dt>Status</dt><dd>{sm.status}</dd>
        <dt>Created</dt><dd>{fmtTime(sm.creationDate)}</dd>
        <dt>Role</dt><dd class="mono">{sm.roleArn}</dd>
        {sm.description ? <><dt>Description</dt><dd>{sm.description}</dd></> : null}
      </dl>
      {showStart ? <StartForm arn={arn} onClose={() => setShowStart(false)} /> : null}
      <Tabs value={tab} onChange={setTab} tabs={[['executions', 'Executions'], ['graph', 'Graph'], ['definition', 'Definition'], ['versions', 'Versions and aliases']]} />
      {tab === 'executions' ? <Executions arn={arn} type={sm.type} /> : null}
      {tab === 'graph' ? (def ? <Graph level={def} /> : <p class="muted">The definition does not parse as JSON.</p>) : null}
      {tab === 'definition' ? <Definition text={sm.definition} /> : null}
      {tab === 'versions' ? <Versions arn={arn} /> : null}
    </section>
  );
}

function Definition({ text }) {
  const [fmt, setFmt] = useState('json');
  const out = useMemo(() => {
    try {
      const v = JSON.parse(text);
      return fmt === 'yaml' ? yaml.dump(v, { lineWidth: 120, noRefs: true }) : JSON.stringify(v, null, 2);
    } catch {
      return text;
    }
  }, [text, fmt]);
  return (
    <div>
      <div class="toolbar">
        <Tabs value={fmt} onChange={setFmt} tabs={[['json', 'JSON'], ['yaml', 'YAML']]} />
      </div>
      <pre class="code" id="definition">{out}</pre>
    </div>
  );
}

function Executions({ arn, type }) {
  const [status, setStatus] = useState('');
  const [tokens, setTokens] = useState([undefined]); // page start tokens
  const [n, setN] = useState(0);
  const token = tokens[tokens.length - 1];
  const [page, err, loading, reload] = useAsync(
    () => call('ListExecutions', { stateMachineArn: arn, maxResults: 25, ...(status ? { statusFilter: status } : {}), ...(token ? { nextToken: token } : {}) }),
    [arn, status, token, n],
  );
  const [stopErr, setStopErr] = useState(null);
  const stop = async (e) => {
    setStopErr(null);
    try {
      await call('StopExecution', { executionArn: e.executionArn, error: 'Console.Stopped', cause: 'Stopped from the sfnd console' });
      reload();
    } catch (x) {
      setStopErr(x);
    }
  };
  if (type === 'EXPRESS') return <p class="muted">Express executions keep no history: sfnd lists none (as AWS lists none without CloudWatch Logs).</p>;
  return (
    <div>
      <div class="toolbar">
        <label>Status <select id="exec-status" value={status} onChange={(e) => { setStatus(e.currentTarget.value); setTokens([undefined]); }}>
          {STATUSES.map((s) => <option value={s}>{s || 'Any'}</option>)}
        </select></label>
        <button onClick={() => setN(n + 1)}>Refresh</button>
        <span class="spacer" />
        <button disabled={tokens.length < 2} onClick={() => setTokens(tokens.slice(0, -1))}>‹ Newer</button>
        <span class="muted">page {tokens.length}</span>
        <button id="exec-older" disabled={!page || !page.nextToken} onClick={() => setTokens([...tokens, page.nextToken])}>Older ›</button>
      </div>
      <ErrorBox err={err || stopErr} />
      {loading && !page ? <Spinner /> : null}
      {page && !page.executions.length ? <p class="muted">No executions{status ? ` with status ${status}` : ''}.</p> : null}
      {page && page.executions.length ? (
        <table class="list" id="exec-table">
          <thead><tr><th>Name</th><th>Status</th><th>Started</th><th>Ended</th><th>Duration</th><th></th></tr></thead>
          <tbody>
            {page.executions.map((e) => (
              <tr data-status={e.status}>
                <td><Link href={execHref(e.executionArn)}>{e.name}</Link></td>
                <td><Status s={e.status} /></td>
                <td>{fmtTime(e.startDate)}</td>
                <td>{fmtTime(e.stopDate)}</td>
                <td>{e.stopDate ? fmtDur(toMillis(e.stopDate) - toMillis(e.startDate)) : ''}</td>
                <td>{e.status === 'RUNNING' ? <button class="small danger" onClick={() => stop(e)}>Stop</button> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function Versions({ arn }) {
  const [data, err, loading] = useAsync(async () => {
    const [versions, aliases] = await Promise.all([
      all('ListStateMachineVersions', { stateMachineArn: arn }, 'stateMachineVersions'),
      all('ListStateMachineAliases', { stateMachineArn: arn }, 'stateMachineAliases'),
    ]);
    const described = await Promise.all(aliases.map((a) => call('DescribeStateMachineAlias', { stateMachineAliasArn: a.stateMachineAliasArn }).catch(() => a)));
    return { versions, aliases: described };
  }, [arn]);
  if (err) return <ErrorBox err={err} />;
  if (loading && !data) return <Spinner />;
  return (
    <div class="cols">
      <div>
        <h3>Versions</h3>
        {data.versions.length ? (
          <table class="list"><thead><tr><th>Version</th><th>Created</th></tr></thead>
            <tbody>{data.versions.map((v) => <tr><td><Link href={smHref(v.stateMachineVersionArn)}>{v.stateMachineVersionArn.split(':').pop()}</Link></td><td>{fmtTime(v.creationDate)}</td></tr>)}</tbody>
          </table>
        ) : <p class="muted">No published versions.</p>}
      </div>
      <div>
        <h3>Aliases</h3>
        {data.aliases.length ? (
          <table class="list"><thead><tr><th>Alias</th><th>Routing</th><th>Created</th></tr></thead>
            <tbody>{data.aliases.map((a) => (
              <tr><td>{a.name || a.stateMachineAliasArn.split(':').pop()}</td>
                <td>{(a.routingConfiguration || []).map((r) => <div>{r.stateMachineVersionArn.split(':').pop()}: {r.weight}%</div>)}</td>
                <td>{fmtTime(a.creationDate)}</td></tr>
            ))}</tbody>
          </table>
        ) : <p class="muted">No aliases.</p>}
      </div>
    </div>
  );
}

function StartForm({ arn, onClose }) {
  const [name, setName] = useState('');
  const [input, setInput] = useState('{\n  \n}');
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  let jsonErr = null;
  try {
    JSON.parse(input);
  } catch (e) {
    jsonErr = e.message;
  }
  const nameErr = name && !/^[A-Za-z0-9_-]{1,80}$/.test(name) ? 'Names are 1 to 80 letters, digits, - or _.' : null;
  const submit = async (e) => {
    e.preventDefault();
    if (jsonErr || nameErr) return;
    setBusy(true);
    setErr(null);
    try {
      const r = await call('StartExecution', { stateMachineArn: arn, input, ...(name ? { name } : {}) });
      navigate(execHref(r.executionArn));
    } catch (x) {
      setErr(x);
      setBusy(false);
    }
  };
  return (
    <form class="panel start-form" id="start-form" onSubmit={submit}>
      <h3>Start an execution</h3>
      <label>Name (optional)<input id="start-name" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="a unique name; empty picks one" /></label>
      {nameErr ? <div class="field-error">{nameErr}</div> : null}
      <label>Input (JSON)<textarea id="start-input" rows={8} spellcheck={false} value={input} onInput={(e) => setInput(e.currentTarget.value)} /></label>
      <div class={jsonErr ? 'field-error' : 'field-ok'} id="start-json-state">{jsonErr ? `Invalid JSON: ${jsonErr}` : 'Valid JSON'}</div>
      <ErrorBox err={err} />
      <div class="actions">
        <button type="submit" class="primary" id="start-submit" disabled={!!jsonErr || !!nameErr || busy}>Start</button>
        <button type="button" onClick={onClose}>Cancel</button>
      </div>
    </form>
  );
}
