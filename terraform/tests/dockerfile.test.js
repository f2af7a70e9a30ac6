// Structural lint of terraform/images/Dockerfile{,.gpu}: no Docker engine or
// hadolint runs in CI, so this parses the instructions (with line
// continuations) and checks what a reviewer would: pinned bases, multi-stage
// with the compiler only in the build stage, the exact CMake build, apt
// hygiene, a non-root user, EXPOSE 8080, HEALTHCHECK on /healthz and an
// exec-form ENTRYPOINT.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const DIR = path.join(__dirname, '..', 'images');
const KNOWN = new Set(['FROM', 'RUN', 'CMD', 'LABEL', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME',
  'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL']);

// -> [{op, args, line}] ; comments and blank lines dropped, "\" joined.
function instructions(text) {
  const out = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\s+$/, '');
    if (!buf && (/^\s*#/.test(line) || line.trim() === '')) return;
    if (buf && /^\s*#/.test(line)) return; // comment inside a continuation
    if (!buf) start = i + 1;
    if (line.endsWith('\\')) { buf += line.slice(0, -1) + ' '; return; }
    buf += line;
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(buf);
    assert.ok(m, `line ${start}: cannot parse "${buf}"`);
    out.push({ op: m[1].toUpperCase(), args: m[2].trim(), line: start });
    buf = '';
  });
  assert.equal(buf, '', 'dangling line continuation');
  return out;
}

function stages(ins) {
  const list = [];
  for (const x of ins) {
    if (x.op === 'FROM') list.push({ from: x, body: [] });
    else if (list.length) list[list.length - 1].body.push(x);
  }
  return list;
}

function globalArgs(ins) {
  const args = {};
  for (const x of ins) {
    if (x.op === 'FROM') break;
    if (x.op === 'ARG') { const [k, v] = x.args.split('='); args[k] = (v || '').replace(/^"|"$/g, ''); }
  }
  return args;
}

const expand = (s, args) => s.replace(/\$\{(\w+)\}/g, (_, k) => args[k] ?? `\${${k}}`);
const isExecForm = (s) => { try { const a = JSON.parse(s); return Array.isArray(a) && a.every((x) => typeof x === 'string'); } catch { return false; } };

function commonChecks(file) {
  const text = fs.readFileSync(path.join(DIR, file), 'utf8');
  const ins = instructions(text);
  for (const x of ins) assert.ok(KNOWN.has(x.op), `${file}:${x.line}: unknown instruction ${x.op}`);
  const args = globalArgs(ins);
  const st = stages(ins);
  assert.equal(st.length, 2, `${file}: build + runtime stages`);
  const [build, runtime] = st;
  assert.match(build.from.args, / AS build$/i, `${file}: first stage named build`);
  for (const s of st) {
    const image = expand(s.from.args.split(/\s+/)[0], args);
    assert.doesNotMatch(image, /\$\{/, `${file}: base ${s.from.args} fully resolved by ARG defaults`);
    assert.match(image, /:[\w.-]+$/, `${file}: base ${image} has a tag`);
    assert.doesNotMatch(image, /:latest$/, `${file}: base ${image} is not :latest`);
  }
  for (const s of st) {
    for (const r of s.body.filter((x) => x.op === 'RUN')) {
      if (/apt-get install/.test(r.args)) {
        assert.match(r.args, /apt-get update\s+&&/, `${file}:${r.line}: update and install in one layer`);
        assert.match(r.args, /--no-install-recommends/, `${file}:${r.line}: --no-install-recommends`);
        assert.match(r.args, /-y\b/, `${file}:${r.line}: non-interactive -y`);
        assert.match(r.args, /rm -rf \/var\/lib\/apt\/lists\/\*/, `${file}:${r.line}: apt lists removed`);
      }
      assert.doesNotMatch(r.args, /\bsudo\b|curl [^|]*\|\s*(ba)?sh/, `${file}:${r.line}: no sudo, no curl | sh`);
    }
    assert.ok(!s.body.some((x) => x.op === 'ADD' && /https?:/.test(x.args)), `${file}: no ADD from URLs`);
  }
  const buildRuns = build.body.filter((x) => x.op === 'RUN').map((x) => x.args).join('\n');
  for (const p of ['libwebsockets-dev', 'libcjson-dev', 'libcurl4-openssl-dev', 'zlib1g-dev', 'cmake', 'ninja-build', 'gcc'])
    assert.match(buildRuns, new RegExp(`(\\s|^)${p}(\\s|$)`), `${file}: build stage installs ${p}`);
  assert.match(buildRuns, /cmake -S \. -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVOLSURF_TESTS=OFF/, `${file}: configure command`);
  assert.match(buildRuns, /cmake --build build/, `${file}: build command`);

  const rt = runtime.body;
  const rtRuns = rt.filter((x) => x.op === 'RUN').map((x) => x.args).join('\n');
  assert.doesNotMatch(rtRuns, /-dev\b|\bgcc\b|\bcmake\b|ninja-build/, `${file}: runtime stage has no toolchain or headers`);
  const copies = rt.filter((x) => x.op === 'COPY');
  assert.ok(copies.some((c) => /^--from=build\s+\/src\/build\/host\/volsurf\s+\S+/.test(c.args)), `${file}: runtime copies build/host/volsurf from the build stage`);
  assert.ok(copies.every((c) => /--from=/.test(c.args)), `${file}: runtime copies nothing from the context`);
  const users = rt.filter((x) => x.op === 'USER');
  assert.ok(users.length > 0, `${file}: USER set`);
  const lastUser = users[users.length - 1].args;
  assert.doesNotMatch(lastUser, /^(root|0)(:|$)/, `${file}: non-root user`);
  const userIdx = rt.indexOf(users[users.length - 1]);
  assert.ok(!rt.slice(userIdx).some((x) => x.op === 'RUN' && /apt-get|useradd/.test(x.args)), `${file}: nothing privileged after USER`);
  assert.ok(rt.some((x) => x.op === 'EXPOSE' && /(^|\s)8080(\/tcp)?(\s|$)/.test(x.args)), `${file}: EXPOSE 8080`);
  const hc = rt.find((x) => x.op === 'HEALTHCHECK');
  assert.ok(hc && /CMD\s+(\[.*\/healthz.*\]|.*\/healthz)/.test(hc.args), `${file}: HEALTHCHECK on /healthz`);
  assert.match(rtRuns + '\n' + hc.args, /curl/, `${file}: health check tool`);
  assert.match(rtRuns, /apt-get install[^\n]*\bcurl\b/, `${file}: curl installed for the health check`);
  const ep = rt.filter((x) => x.op === 'ENTRYPOINT');
  assert.equal(ep.length, 1, `${file}: one ENTRYPOINT`);
  assert.ok(isExecForm(ep[0].args), `${file}: ENTRYPOINT in exec form (signals reach volsurf)`);
  assert.match(JSON.parse(ep[0].args)[0], /\/volsurf$/, `${file}: ENTRYPOINT is volsurf`);
  const cmd = rt.filter((x) => x.op === 'CMD');
  assert.ok(cmd.length === 1 && isExecForm(cmd[0].args), `${file}: CMD in exec form`);
  return { ins, args, build, runtime };
}

test('Dockerfile (CPU) is a Debian bookworm multi-stage build', () => {
  const { args, build, runtime } = commonChecks('Dockerfile');
  assert.equal(expand(build.from.args.split(/\s+/)[0], args), 'debian:bookworm');
  assert.equal(expand(runtime.from.args.split(/\s+/)[0], args), 'debian:bookworm-slim');
  const rtRuns = runtime.body.filter((x) => x.op === 'RUN').map((x) => x.args).join('\n');
  for (const p of ['libwebsockets17', 'libcjson1', 'libcurl4', 'zlib1g', 'ca-certificates'])
    assert.match(rtRuns, new RegExp(`\\s${p}(\\s|$)`), `runtime installs ${p}`);
});

test('Dockerfile.gpu builds with CUDA 13 devel and runs on CUDA 13 runtime', () => {
  const { args, build, runtime } = commonChecks('Dockerfile.gpu');
  const b = expand(build.from.args.split(/\s+/)[0], args);
  const r = expand(runtime.from.args.split(/\s+/)[0], args);
  assert.match(b, /^nvidia\/cuda:13\.\d+\.\d+-devel-ubuntu\d+\.\d+$/);
  assert.match(r, /^nvidia\/cuda:13\.\d+\.\d+-runtime-ubuntu\d+\.\d+$/);
  assert.equal(b.replace('-devel-', '-'), r.replace('-runtime-', '-'), 'same CUDA version and distro in both stages');
  const buildRuns = build.body.filter((x) => x.op === 'RUN').map((x) => x.args).join('\n');
  assert.match(buildRuns, /-DVOLSURF_CUDA=ON/);
  assert.match(buildRuns, /CMAKE_CUDA_ARCHITECTURES=\$\{CUDA_ARCHS\}/, 'explicit GPU architectures');
  const archArg = build.body.find((x) => x.op === 'ARG' && x.args.startsWith('CUDA_ARCHS='));
  const archs = archArg.args.split('=')[1].replace(/"/g, '').split(';');
  for (const sm of ['75', '86', '89']) assert.ok(archs.includes(sm), `sm_${sm} (T4 / A10G / L4) in CUDA_ARCHS`);
  assert.match(buildRuns, /grep -q 'CUDA fitter ON'/, 'build fails when CUDA is not detected');
});

test('each Dockerfile has a .dockerignore that keeps the context small', () => {
  for (const f of ['Dockerfile', 'Dockerfile.gpu']) {
    const ig = fs.readFileSync(path.join(DIR, `${f}.dockerignore`), 'utf8').split('\n').map((s) => s.trim());
    for (const p of ['.git', '**/node_modules', 'build*']) assert.ok(ig.includes(p), `${f}.dockerignore excludes ${p}`);
    for (const keep of ['host', 'kernels', 'CMakeLists.txt', 'bench']) assert.ok(!ig.includes(keep), `${f}.dockerignore keeps ${keep}`);
  }
});

test('the instruction parser handles continuations and comments', () => {
  const ins = instructions('FROM a:1 AS build\n# c\nRUN x \\\n  # inner\n  && y\nUSER 1\n');
  assert.deepEqual(ins.map((x) => x.op), ['FROM', 'RUN', 'USER']);
  assert.match(ins[1].args, /x\s+&& y/);
});
