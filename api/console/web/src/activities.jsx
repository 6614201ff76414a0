import { useEffect, useState } from 'preact/hooks';
import { all, call } from './api.js';
import { ErrorBox, Link, Spinner, actHref, fmtTime, useAsync } from './ui.jsx';

export function ActivityList() {
  const [items, err, loading] = useAsync(() => all('ListActivities', { maxResults: 1000 }, 'activities'), []);
  // Each activity's queue (the first 200 activities), refreshed every 3 s.
  const [queues, setQueues] = useState({});
  useEffect(() => {
    if (!items || !items.length) return;
    let live = true;
    let timer;
    const tick = async () => {
      const got = {};
      await Promise.all(items.slice(0, 200).map((a) => call('SfndConsole.DescribeActivityQueue', { activityArn: a.activityArn }).then((q) => { got[a.activityArn] = q; }, () => {})));
      if (!live) return;
      setQueues(got);
      timer = setTimeout(tick, 3000);
    };
    tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [items]);
  return (
    <section>
      <h1>Activities {items ? <span class="count">({items.length})</span> : null}</h1>
      <ErrorBox err={err} />
      {loading && !items ? <Spinner /> : null}
      {items && !items.length ? <p class="muted">No activities yet (CreateActivity).</p> : null}
      {items && items.length ? (
        <table class="list" id="act-table">
          <thead><tr><th>Name</th><th title="tasks queued and not yet handed to a worker (a task of an execution that ended meanwhile counts until a poll drops it)">Tasks waiting</th><th>Polls waiting</th><th>Workers seen</th><th>Created</th></tr></thead>
          <tbody>{items.map((a) => {
            const q = queues[a.activityArn];
            return (
              <tr data-activity={a.name}>
                <td><Link href={actHref(a.activityArn)}>{a.name}</Link></td>
                <td class="c-waiting">{q ? q.waiting : ''}</td>
                <td>{q ? q.pollers : ''}</td>
                <td class="c-workers">{q ? q.workers.map((w) => w.name).slice(0, 5).join(', ') + (q.workers.length > 5 ? ` +${q.workers.length - 5}` : '') : ''}</td>
                <td>{fmtTime(a.creationDate)}</td>
              </tr>
            );
          })}</tbody>
        </table>
      ) : null}
    </section>
  );
}

export function ActivityPage({ arn }) {
  const [a, err] = useAsync(() => call('DescribeActivity', { activityArn: arn }), [arn]);
  const [q, setQ] = useState(null);
  const [qErr, setQErr] = useState(null);
  useEffect(() => {
    let live = true;
    let timer;
    const tick = async () => {
      try {
        const r = await call('SfndConsole.DescribeActivityQueue', { activityArn: arn });
        if (live) {
          setQ(r);
          setQErr(null);
        }
      } catch (e) {
        if (live) setQErr(e);
      }
      if (live) timer = setTimeout(tick, 2000);
    };
    tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [arn]);
  if (err) return <section><h1>Activity</h1><ErrorBox err={err} /></section>;
  if (!a) return <Spinner />;
  return (
    <section>
      <div class="crumbs"><Link href="/activities">Activities</Link> ›</div>
      <h1>{a.name}</h1>
      <dl class="facts">
        <dt>ARN</dt><dd class="mono">{a.activityArn}</dd>
        <dt>Created</dt><dd>{fmtTime(a.creationDate)}</dd>
        <dt title="tasks queued and not yet handed to a worker (a task of an execution that ended meanwhile counts until a poll drops it)">Tasks waiting</dt><dd id="act-waiting">{q ? q.waiting : '…'}</dd>
        <dt>Polls waiting</dt><dd id="act-pollers">{q ? q.pollers : '…'}</dd>
      </dl>
      <ErrorBox err={qErr} />
      <h3>Workers recently seen <span class="muted">(GetActivityTask workerName, on this node since it started)</span></h3>
      {q && q.workers.length ? (
        <table class="list" id="act-workers">
          <thead><tr><th>Worker</th><th>Last task taken</th></tr></thead>
          <tbody>{q.workers.map((w) => <tr><td>{w.name}</td><td>{fmtTime(w.lastSeen)}</td></tr>)}</tbody>
        </table>
      ) : <p class="muted">No worker has taken a task yet.</p>}
    </section>
  );
}
