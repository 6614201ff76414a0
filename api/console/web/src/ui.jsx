// Small shared pieces: routing, links, formatting, JSON views, virtual lists.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';

let routeListeners = [];
export function navigate(to, replace) {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const f of routeListeners) f();
  window.scrollTo(0, 0);
}
export function usePath() {
  const [p, setP] = useState(location.pathname + location.search);
  useEffect(() => {
    const f = () => setP(location.pathname + location.search);
    routeListeners.push(f);
    window.addEventListener('popstate', f);
    return () => {
      routeListeners = routeListeners.filter((g) => g !== f);
      window.removeEventListener('popstate', f);
    };
  }, []);
  return p;
}

export function Link({ href, children, ...rest }) {
  return (
    <a href={href} {...rest} onClick={(e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      navigate(href);
    }}>{children}</a>
  );
}

export const smHref = (arn) => '/state-machines/' + encodeURIComponent(arn);
export const execHref = (arn) => '/executions/' + encodeURIComponent(arn);
export const actHref = (arn) => '/activities/' + encodeURIComponent(arn);

// toMillis reads an API timestamp (epoch seconds, or an ISO string).
export function toMillis(t) {
  if (t === undefined || t === null || t === '') return 0;
  return typeof t === 'number' ? t * 1000 : Date.parse(t);
}
export function fmtTime(t) {
  return fmtMs(toMillis(t));
}
// fmtMs formats epoch milliseconds as local time.
export function fmtMs(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
export function fmtDur(ms) {
  if (ms === undefined || ms === null || isNaN(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  if (ms < 3600000) return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
  return `${Math.floor(ms / 3600000)} h ${Math.round((ms % 3600000) / 60000)} min`;
}
export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

export function Status({ s }) {
  return <span class={'status status-' + String(s || '').toLowerCase()}>{s}</span>;
}

export function ErrorBox({ err }) {
  if (!err) return null;
  return <div class="error-box" role="alert"><b>{err.type || 'Error'}</b>: {err.message}</div>;
}

// pretty formats JSON text (2-space indent) when it parses, else returns it as is.
export function pretty(text) {
  if (text === undefined || text === null) return '';
  if (typeof text !== 'string') return JSON.stringify(text, null, 2);
  if (text.length > 2_000_000) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

const CLIP = 8000;
// JsonView shows JSON text formatted; a large one is cut at CLIP characters with a
// button that shows all of it.
export function JsonView({ text, label }) {
  const [full, setFull] = useState(false);
  const body = useMemo(() => pretty(text), [text]);
  if (text === undefined || text === null) return <div class="muted">{label ? `No ${label}` : 'none'}</div>;
  const cut = !full && body.length > CLIP;
  return (
    <div class="json">
      <pre>{cut ? body.slice(0, CLIP) : body}</pre>
      {cut ? <button class="link expand" onClick={() => setFull(true)}>Show all ({fmtBytes(body.length)}, {(body.length - CLIP).toLocaleString()} more characters)</button> : null}
    </div>
  );
}

export function Tabs({ tabs, value, onChange }) {
  return (
    <div class="tabs" role="tablist">
      {tabs.map(([k, label]) => (
        <button role="tab" class={k === value ? 'tab active' : 'tab'} aria-selected={k === value} data-tab={k} onClick={() => onChange(k)}>{label}</button>
      ))}
    </div>
  );
}

// VirtualRows renders only the rows in view of a scrolling box: heights[i] is row
// i's height, render(i) draws it.
export function VirtualRows({ count, height, rowHeight, render, class: cls, header, scrollTo }) {
  const box = useRef(null);
  const [top, setTop] = useState(0);
  const offsets = useMemo(() => {
    const o = new Float64Array(count + 1);
    for (let i = 0; i < count; i++) o[i + 1] = o[i] + rowHeight(i);
    return o;
  }, [count, rowHeight]);
  useLayoutEffect(() => {
    if (scrollTo !== undefined && scrollTo >= 0 && box.current) {
      box.current.scrollTop = offsets[scrollTo];
      setTop(offsets[scrollTo]);
    }
  }, [scrollTo]);
  const find = (y) => {
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (offsets[m + 1] <= y) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  const first = Math.max(0, find(top) - 5);
  const last = Math.min(count, find(top + height) + 6);
  const rows = [];
  for (let i = first; i < last; i++) rows.push(render(i));
  return (
    <div class={'vbox ' + (cls || '')} ref={box} style={{ height: height + 'px' }} onScroll={(e) => setTop(e.currentTarget.scrollTop)}>
      {header}
      <div style={{ height: offsets[count] + 'px', position: 'relative' }}>
        <div style={{ position: 'absolute', top: offsets[first] + 'px', left: 0, right: 0 }}>{rows}</div>
      </div>
    </div>
  );
}

// useAsync runs fn when deps change and returns [value, error, loading, reload].
export function useAsync(fn, deps) {
  const [state, setState] = useState({ v: undefined, e: null, loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then((v) => live && setState({ v, e: null, loading: false }), (e) => live && setState({ v: undefined, e, loading: false }));
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return [state.v, state.e, state.loading, () => setN((x) => x + 1)];
}

export function Spinner() {
  return <div class="muted loading">Loading…</div>;
}
