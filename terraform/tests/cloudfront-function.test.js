// Tests terraform/functions/canonical-host.js, the CloudFront Function the
// static_site module deploys (file()).  The file is a plain script for the
// cloudfront-js-2.0 runtime, so it is loaded here the way CloudFront loads
// it: evaluated in a fresh context, then handler(event) is called.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const FN_PATH = path.join(__dirname, '..', 'functions', 'canonical-host.js');
const SOURCE = fs.readFileSync(FN_PATH, 'utf8');

function loadHandler() {
  const ctx = vm.createContext({});
  vm.runInContext(SOURCE, ctx, { filename: FN_PATH });
  assert.equal(typeof ctx.handler, 'function', 'the script defines handler()');
  return ctx.handler;
}

// Builds a viewer-request event the way CloudFront does (lower-case header
// names, querystring as an object of {value, multiValue?}).
function event(host, uri, querystring = {}) {
  const headers = host === null ? {} : { host: { value: host } };
  return {
    version: '1.0',
    context: { eventType: 'viewer-request' },
    viewer: { ip: '192.0.2.1' },
    request: { method: 'GET', uri, querystring, headers, cookies: {} },
  };
}

const handler = loadHandler();

test('www host is redirected to the apex with a 301', () => {
  const r = handler(event('www.volsurf.example.com', '/'));
  assert.equal(r.statusCode, 301);
  assert.equal(r.headers.location.value, 'https://volsurf.example.com/');
});

test('redirect keeps the path and the query string', () => {
  const r = handler(event('www.volsurf.example.com', '/surface/BTC', {
    asset: { value: 'BTC' },
    tenor: { value: '1m' },
  }));
  assert.equal(r.statusCode, 301);
  assert.equal(r.headers.location.value, 'https://volsurf.example.com/surface/BTC?asset=BTC&tenor=1m');
});

test('redirect keeps repeated query keys in order', () => {
  const r = handler(event('www.volsurf.example.com', '/x', {
    venue: { value: 'deribit', multiValue: [{ value: 'deribit' }, { value: 'okx' }] },
  }));
  assert.equal(r.headers.location.value, 'https://volsurf.example.com/x?venue=deribit&venue=okx');
});

test('redirect keeps a key without a value', () => {
  const r = handler(event('www.volsurf.example.com', '/', { debug: { value: '' } }));
  assert.equal(r.headers.location.value, 'https://volsurf.example.com/?debug');
});

test('query values are encoded once whether CloudFront passes them raw or encoded', () => {
  const raw = handler(event('www.volsurf.example.com', '/', { q: { value: 'a b&c' } }));
  const enc = handler(event('www.volsurf.example.com', '/', { q: { value: 'a%20b%26c' } }));
  assert.equal(raw.headers.location.value, 'https://volsurf.example.com/?q=a%20b%26c');
  assert.equal(enc.headers.location.value, 'https://volsurf.example.com/?q=a%20b%26c');
});

test('a lone percent sign in a value does not throw', () => {
  const r = handler(event('www.volsurf.example.com', '/', { pct: { value: '100%' } }));
  assert.equal(r.headers.location.value, 'https://volsurf.example.com/?pct=100%25');
});

test('host matching is case-insensitive and the target is lower case', () => {
  const r = handler(event('WWW.Volsurf.Example.COM', '/a.js'));
  assert.equal(r.statusCode, 301);
  assert.equal(r.headers.location.value, 'https://volsurf.example.com/a.js');
});

test('redirect is cacheable but not forever', () => {
  const r = handler(event('www.volsurf.example.com', '/'));
  assert.match(r.headers['cache-control'].value, /^max-age=\d+$/);
  assert.equal(r.statusDescription, 'Moved Permanently');
});

test('apex requests pass through unchanged', () => {
  const ev = event('volsurf.example.com', '/assets/index-3f2a9c.js', { v: { value: '1' } });
  const r = handler(ev);
  assert.equal(r.statusCode, undefined);
  assert.equal(r.uri, '/assets/index-3f2a9c.js');
  assert.deepEqual(r.querystring, { v: { value: '1' } });
  assert.equal(r.headers.host.value, 'volsurf.example.com');
});

test('root path passes through for the default root object', () => {
  assert.equal(handler(event('volsurf.example.com', '/')).uri, '/');
});

test('extensionless single-page routes are served index.html', () => {
  assert.equal(handler(event('volsurf.example.com', '/surface/BTC')).uri, '/index.html');
  assert.equal(handler(event('volsurf.example.com', '/settings/')).uri, '/index.html');
});

test('files keep their path', () => {
  assert.equal(handler(event('volsurf.example.com', '/favicon.ico')).uri, '/favicon.ico');
  assert.equal(handler(event('volsurf.example.com', '/index.html')).uri, '/index.html');
});

test('hosts that merely contain www are not redirected', () => {
  assert.equal(handler(event('staging-www.example.com', '/a.css')).statusCode, undefined);
  assert.equal(handler(event('www.', '/a.css')).statusCode, undefined);
});

test('a request without a host header passes through', () => {
  assert.equal(handler(event(null, '/a.css')).uri, '/a.css');
});

test('the function fits CloudFront Functions limits and syntax', () => {
  assert.ok(Buffer.byteLength(SOURCE) < 10 * 1024, 'under the 10 KB code size limit');
  assert.doesNotMatch(SOURCE, /\b(module\.exports|require\(|^import |^export )/m, 'no module syntax');
});

test('the static_site module deploys this very file', () => {
  const tf = fs.readFileSync(path.join(__dirname, '..', 'modules', 'static_site', 'main.tf'), 'utf8');
  const m = /code\s*=\s*file\("\$\{path\.module\}\/([^"]+)"\)/.exec(tf);
  assert.ok(m, 'aws_cloudfront_function code = file(...)');
  assert.equal(path.resolve(__dirname, '..', 'modules', 'static_site', m[1]), FN_PATH);
  assert.match(tf, /runtime\s*=\s*"cloudfront-js-2\.0"/);
  assert.match(tf, /event_type\s*=\s*"viewer-request"/);
});
