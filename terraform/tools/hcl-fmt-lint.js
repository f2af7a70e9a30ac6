#!/usr/bin/env node
// hcl-fmt-lint.js — an offline stand-in for `terraform fmt -check`, which CI
// cannot run (no terraform binary on the CI machine).  It checks the layout
// rules terraform fmt enforces that a reviewer would notice:
//   * LF line ends, no tabs, no trailing whitespace, exactly one final newline,
//     no two blank lines in a row, no blank line right after "{" / before "}"
//   * indentation: 2 spaces per open bracket line, the way hclwrite counts it
//     (a line with a net increase of brackets indents what follows by one
//     level, however many brackets it opened; a closing line dedents)
//   * "=" alignment: in every run of consecutive one-line attributes at the
//     same level, the "=" signs share one column, one space after the longest
//     key, and exactly one space follows "="
// Heredoc bodies are left alone, as terraform fmt does.  Parse errors are the
// business of tfcheck (HCL parser), not of this script.
//
// usage: node hcl-fmt-lint.js DIR|FILE...   (checks *.tf and *.tfvars)
'use strict';
const fs = require('fs');
const path = require('path');

// Splits one physical line into code (strings and comments blanked) and
// reports bracket changes.  `state` carries open strings / heredocs / block
// comments across lines.
function scanLine(line, state) {
  let code = '';
  let i = 0;
  const opens = '{[(';
  const closes = '}])';
  while (i < line.length) {
    const c = line[i];
    const top = state.stack[state.stack.length - 1];
    if (state.blockComment) {
      if (line.startsWith('*/', i)) { state.blockComment = false; i += 2; } else i++;
      code += ' ';
      continue;
    }
    if (top === 'str') {
      if (c === '\\') { i += 2; code += '  '; continue; }
      if (line.startsWith('${', i) || line.startsWith('%{', i)) { state.stack.push('interp'); i += 2; code += '  '; continue; }
      if (c === '"') { state.stack.pop(); code += '"'; i++; continue; }
      code += ' '; i++;
      continue;
    }
    // code or interpolation
    if (c === '"') { state.stack.push('str'); code += '"'; i++; continue; }
    if (c === '#' || line.startsWith('//', i)) { state.comment = true; break; }
    if (line.startsWith('/*', i)) { state.blockComment = true; i += 2; code += '  '; continue; }
    const h = /^<<(-?)([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(line.slice(i));
    if (h && top !== 'interp') { state.heredoc = h[2]; code += line.slice(i); break; }
    if (top === 'interp') {
      if (c === '{') state.stack.push('ibrace');
      if (c === '}') { state.stack.pop(); }
      code += ' '; i++;
      continue;
    }
    if (top === 'ibrace') {
      if (c === '}') state.stack.pop();
      if (c === '{') state.stack.push('ibrace');
      code += ' '; i++;
      continue;
    }
    code += c; i++;
  }
  let net = 0;
  let leadingCloser = false;
  const trimmed = code.trim();
  for (const ch of code) {
    if (opens.includes(ch)) net++;
    else if (closes.includes(ch)) net--;
  }
  if (trimmed && closes.includes(trimmed[0])) leadingCloser = true;
  return { code, net, leadingCloser };
}

function lintText(text, file = '<text>') {
  const errs = [];
  const e = (n, msg) => errs.push(`${file}:${n}: ${msg}`);
  if (text.includes('\r')) e(1, 'CR line ends (use LF)');
  if (text.length && !text.endsWith('\n')) e(text.split('\n').length, 'no final newline');
  if (/\n\n$/.test(text)) e(text.split('\n').length - 1, 'blank line(s) at end of file');
  const lines = text.replace(/\r/g, '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const state = { stack: [], heredoc: null, blockComment: false };
  const indents = [];
  let run = []; // {n, keyLen, eqCol, depth}
  const flush = () => {
    if (run.length > 1 || (run.length === 1 && run[0].eqCol !== run[0].keyEnd + 1)) {
      const want = Math.max(...run.map((r) => r.keyEnd)) + 1;
      for (const r of run) if (r.eqCol !== want) e(r.n, `"=" at column ${r.eqCol + 1}, expected ${want + 1} (align with neighbouring attributes)`);
    }
    run = [];
  };
  let prevBlank = false;
  let prevCode = '';
  for (let idx = 0; idx < lines.length; idx++) {
    const n = idx + 1;
    const line = lines[idx];
    if (state.heredoc) {
      if (line.trim() === state.heredoc) state.heredoc = null;
      continue;
    }
    if (/\t/.test(line)) e(n, 'tab character');
    if (/[ \t]+$/.test(line)) e(n, 'trailing whitespace');
    const blank = line.trim() === '';
    if (blank) {
      if (prevBlank) e(n, 'two blank lines in a row');
      if (/[{[(]\s*$/.test(prevCode)) e(n, 'blank line after an opening bracket');
      prevBlank = true;
      flush();
      continue;
    }
    const inString = state.stack.length > 0; // continuation of a multi-line string/interp
    state.comment = false;
    const { code, net, leadingCloser } = scanLine(line, state);
    if (prevBlank && leadingCloser) e(n - 1, 'blank line before a closing bracket');
    prevBlank = false;
    prevCode = code;
    if (inString) { flush(); continue; }
    // indentation (hclwrite's indent stack)
    let depth;
    if (net > 0) {
      depth = indents.length;
      indents.push(net);
    } else if (net < 0 || leadingCloser) {
      let need = net < 0 ? -net : 0;
      while (need > 0 && indents.length) {
        const top = indents.pop();
        if (top > need) { indents.push(top - need); need = 0; } else need -= top;
      }
      depth = indents.length;
    } else depth = indents.length;
    const actual = line.length - line.trimStart().length;
    if (actual !== 2 * depth) e(n, `indented ${actual} spaces, expected ${2 * depth}`);
    // one-line attribute?
    const m = /^(\s*)("(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_.-]*)(\s*)=(?!=)(\s*)/.exec(line);
    const oneLine = m && net === 0 && !leadingCloser && !state.heredoc && state.stack.length === 0;
    if (m && state.stack.length === 0 && m[4] !== ' ' && !state.heredoc) e(n, 'expected exactly one space after "="');
    if (oneLine) {
      const keyEnd = m[1].length + m[2].length;
      const r = { n, keyEnd, eqCol: keyEnd + m[3].length, depth };
      if (run.length && run[0].depth !== depth) flush();
      run.push(r);
    } else {
      flush();
      // a multi-line attribute never joins an alignment run: "key = {"
      if (m && state.stack.length === 0 && !state.heredoc && m[3] !== ' ') e(n, 'expected exactly one space before "="');
    }
  }
  flush();
  if (indents.length) e(lines.length, 'unbalanced brackets at end of file');
  return errs;
}

function hclFiles(p) {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return [p];
  const out = [];
  for (const ent of fs.readdirSync(p, { withFileTypes: true })) {
    if (ent.name.startsWith('.') || ent.name === 'node_modules') continue;
    const q = path.join(p, ent.name);
    if (ent.isDirectory()) out.push(...hclFiles(q));
    else if (/\.(tf|tfvars)$/.test(ent.name)) out.push(q);
  }
  return out;
}

module.exports = { lintText, hclFiles };

if (require.main === module) {
  const files = process.argv.slice(2).flatMap(hclFiles);
  let errs = [];
  for (const f of files) errs = errs.concat(lintText(fs.readFileSync(f, 'utf8'), f));
  for (const x of errs) console.log('FMT:', x);
  console.log(`hcl-fmt-lint: ${files.length} file(s), ${errs.length} problem(s)`);
  process.exit(errs.length ? 1 : 0);
}
