import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { getCreds, onAuthNeeded, resetServed, served, setCreds } from './api.js';
import { ActivityList, ActivityPage } from './activities.jsx';
import { ExecutionPage } from './execution.jsx';
import { GlueRun, GlueWorkflow, GlueWorkflows } from './glue.jsx';
import { StateMachineList, StateMachinePage } from './statemachines.jsx';
import { Link, usePath } from './ui.jsx';

function route(path) {
  const p = path.split('?')[0];
  const seg = p.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  if (!seg.length || (seg[0] === 'state-machines' && seg.length === 1)) return ['sms', <StateMachineList />];
  if (seg[0] === 'state-machines') return ['sms', <StateMachinePage arn={seg.slice(1).join('/')} key={p} />];
  if (seg[0] === 'executions' && seg.length > 1) return ['sms', <ExecutionPage arn={seg.slice(1).join('/')} key={p} />];
  if (seg[0] === 'activities' && seg.length === 1) return ['acts', <ActivityList />];
  if (seg[0] === 'activities') return ['acts', <ActivityPage arn={seg.slice(1).join('/')} key={p} />];
  if (seg[0] === 'glue' && seg[1] === 'workflows') {
    if (seg.length === 2) return ['glue', <GlueWorkflows />];
    if (seg.length === 3) return ['glue', <GlueWorkflow name={seg[2]} key={p} />];
    if (seg.length === 5 && seg[3] === 'runs') return ['glue', <GlueRun name={seg[2]} runId={seg[4]} key={p} />];
  }
  return ['', <section><h1>Not found</h1><p>No page at {p}. <Link href="/">State machines</Link></p></section>];
}

function Credentials({ onClose, reason }) {
  const c = getCreds() || {};
  const [f, setF] = useState({ accessKeyId: c.accessKeyId || '', secretAccessKey: c.secretAccessKey || '', sessionToken: c.sessionToken || '', region: c.region || 'us-east-1' });
  const [remember, setRemember] = useState(false);
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  return (
    <div class="modal-bg">
      <form class="panel modal" id="creds-form" onSubmit={(e) => {
        e.preventDefault();
        setCreds(f.accessKeyId ? f : null, remember);
        resetServed();
        onClose(true);
      }}>
        <h3>Credentials</h3>
        {reason ? <div class="error-box">{reason}</div> : null}
        <p class="muted">sfnd requires signed requests. The console signs each request in this browser (AWS Signature Version 4); the secret key is never sent.</p>
        <label>Access key ID<input id="creds-akid" value={f.accessKeyId} onInput={set('accessKeyId')} autocomplete="username" /></label>
        <label>Secret access key<input id="creds-secret" type="password" value={f.secretAccessKey} onInput={set('secretAccessKey')} autocomplete="current-password" /></label>
        <label>Session token (optional)<input value={f.sessionToken} onInput={set('sessionToken')} /></label>
        <label>Region<input value={f.region} onInput={set('region')} /></label>
        <label class="inline"><input type="checkbox" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} /> Remember in this browser</label>
        <div class="actions">
          <button type="submit" class="primary" id="creds-save">Use these credentials</button>
          <button type="button" onClick={() => { setCreds(null); onClose(true); }}>Sign out</button>
          <button type="button" onClick={() => onClose(false)}>Cancel</button>
        </div>
      </form>
    </div>
  );
}

function App() {
  const path = usePath();
  const [auth, setAuth] = useState(null);
  const [glue, setGlue] = useState(false);
  const [n, setN] = useState(0);
  useEffect(() => {
    onAuthNeeded((e) => setAuth(e.message || 'sfnd refused the request'));
  }, []);
  useEffect(() => {
    served().then((s) => setGlue([...s].some((t) => t.startsWith('AWSGlue.'))), () => {});
  }, [n]);
  const [nav, page] = route(path);
  return (
    <div class="app">
      <header>
        <Link href="/" class="brand">sfnd</Link>
        <nav>
          <Link href="/" class={nav === 'sms' ? 'on' : ''}>State machines</Link>
          <Link href="/activities" class={nav === 'acts' ? 'on' : ''}>Activities</Link>
          {glue || nav === 'glue' ? <Link href="/glue/workflows" class={nav === 'glue' ? 'on' : ''}>Glue workflows</Link> : null}
        </nav>
        <span class="spacer" />
        <button class="link creds" onClick={() => setAuth('')}>{getCreds() ? `Signed as ${getCreds().accessKeyId}` : 'Credentials'}</button>
      </header>
      <main key={path + ':' + n}>{page}</main>
      {auth !== null ? <Credentials reason={auth} onClose={(changed) => { setAuth(null); if (changed) setN(n + 1); }} /> : null}
    </div>
  );
}

render(<App />, document.getElementById('app'));
