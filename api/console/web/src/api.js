// The console talks to sfnd only through its API: POST / with X-Amz-Target, as any
// AWS client does (signed with SigV4 when the user has entered credentials).
import { sign } from './sigv4.js';

const CREDS_KEY = 'sfnd.console.credentials';
let listeners = [];

export function getCreds() {
  try {
    const s = sessionStorage.getItem(CREDS_KEY) || localStorage.getItem(CREDS_KEY);
    return s ? JSON.parse(s) : null;
  } catch {
    return null;
  }
}

export function setCreds(c, remember) {
  sessionStorage.removeItem(CREDS_KEY);
  localStorage.removeItem(CREDS_KEY);
  if (c) (remember ? localStorage : sessionStorage).setItem(CREDS_KEY, JSON.stringify(c));
}

// onAuthNeeded registers a callback run when sfnd refuses a request for its
// credentials (missing, unknown or wrongly signed).
export function onAuthNeeded(fn) {
  listeners.push(fn);
}

const AUTH_ERRORS = new Set([
  'MissingAuthenticationTokenException', 'MissingAuthenticationToken', 'UnrecognizedClientException',
  'InvalidSignatureException', 'IncompleteSignatureException', 'SignatureDoesNotMatch',
  'AccessDeniedException', 'InvalidClientTokenId', 'ExpiredTokenException',
]);

export class APIError extends Error {
  constructor(type, message, status) {
    super(message || type);
    this.type = type;
    this.status = status;
  }
}

const SERVICES = {
  'AWSStepFunctions.': { service: 'states', type: 'application/x-amz-json-1.0' },
  'SfndConsole.': { service: 'states', type: 'application/x-amz-json-1.0' },
  'AWSGlue.': { service: 'glue', type: 'application/x-amz-json-1.1' },
};

// call invokes one operation: "StartExecution" (Step Functions) or a full target
// ("SfndConsole.VerifyExecutionHistory", "AWSGlue.GetWorkflow").
export async function call(op, input = {}) {
  const target = op.includes('.') ? op : 'AWSStepFunctions.' + op;
  const svc = SERVICES[target.slice(0, target.indexOf('.') + 1)] || SERVICES['AWSStepFunctions.'];
  const body = JSON.stringify(input);
  const headers = { 'Content-Type': svc.type, 'X-Amz-Target': target };
  const creds = getCreds();
  if (creds && creds.accessKeyId) {
    Object.assign(headers, sign({ region: 'us-east-1', ...creds }, svc.service, location.host, headers, body));
  }
  let res;
  try {
    res = await fetch('/', { method: 'POST', headers, body });
  } catch (e) {
    throw new APIError('NetworkError', 'sfnd did not answer: ' + e.message, 0);
  }
  const text = await res.text();
  let j = {};
  try {
    j = text ? JSON.parse(text) : {};
  } catch {
    j = { message: text };
  }
  if (!res.ok) {
    const type = String(j.__type || res.headers.get('x-amzn-ErrorType') || 'Error').split('#').pop().split(':')[0];
    const err = new APIError(type, j.message || j.Message || res.statusText, res.status);
    if (AUTH_ERRORS.has(type) || res.status === 401) for (const f of listeners) f(err);
    throw err;
  }
  return j;
}

// all pages of a list operation: the items under key, following nextToken.
export async function all(op, input, key, limit = 100000) {
  let out = [];
  let token;
  do {
    const r = await call(op, { ...input, ...(token ? { nextToken: token } : {}) });
    out = out.concat(r[key] || []);
    token = r.nextToken;
  } while (token && out.length < limit);
  return out;
}

let targets = null;
// served resolves to the set of operations sfnd serves (DescribeConsole).
export function served() {
  if (!targets) {
    targets = call('SfndConsole.DescribeConsole').then(
      (r) => new Set(r.targets || []),
      (e) => {
        targets = null;
        throw e;
      },
    );
  }
  return targets;
}
export function resetServed() {
  targets = null;
}
