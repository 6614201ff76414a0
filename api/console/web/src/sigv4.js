// AWS Signature Version 4 for the console's own POST / calls, computed in the
// browser with the access key the user entered (never sent; only the signature is).
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

const hex = (b) => bytesToHex(b);
const h = (s) => hex(sha256(utf8ToBytes(s)));
const mac = (key, s) => hmac(sha256, key, utf8ToBytes(s));

// amzDate formats a Date as 20260101T120000Z.
export function amzDate(d) {
  return d.toISOString().replace(/[:-]|\.\d{3}/g, '');
}

// sign returns the headers (Authorization, X-Amz-Date, X-Amz-Security-Token) that
// sign a POST / request with the given headers and body.
export function sign({ accessKeyId, secretAccessKey, sessionToken, region }, service, host, headers, body, now = new Date()) {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const all = { ...headers, host, 'x-amz-date': date };
  if (sessionToken) all['x-amz-security-token'] = sessionToken;
  const names = Object.keys(all).map((k) => k.toLowerCase()).sort();
  const lower = {};
  for (const k of Object.keys(all)) lower[k.toLowerCase()] = String(all[k]).trim().replace(/\s+/g, ' ');
  const canonicalHeaders = names.map((n) => `${n}:${lower[n]}\n`).join('');
  const signedHeaders = names.join(';');
  const canonical = ['POST', '/', '', canonicalHeaders, signedHeaders, h(body)].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, h(canonical)].join('\n');
  let k = mac(utf8ToBytes('AWS4' + secretAccessKey), day);
  k = mac(k, region);
  k = mac(k, service);
  k = mac(k, 'aws4_request');
  const signature = hex(mac(k, toSign));
  const out = {
    Authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    'X-Amz-Date': date,
  };
  if (sessionToken) out['X-Amz-Security-Token'] = sessionToken;
  return out;
}
