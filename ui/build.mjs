// Builds the dashboard into a folder (default ../build/ui):
//   index.html            loads the two hashed files below by relative URL
//   assets/main-HASH.js   the whole app, minified (Preact + the SDK)
//   assets/main-HASH.css  every style sheet, bundled
// Relative URLs and hash routes let the dashboard work under any path
// prefix; no inline script or style, so a strict CSP holds. Prints the
// gzipped size of the first load.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const out = path.resolve(process.argv[2] || '../build/ui');
fs.rmSync(out, { recursive: true, force: true });

const result = await esbuild.build({
  entryPoints: ['src/main.jsx'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  entryNames: 'assets/[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  loader: { '.svg': 'file' },
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const files = Object.keys(result.metafile.outputs).map((f) => path.relative(out, path.resolve(f)));
const js = files.find((f) => f.endsWith('.js'));
const css = files.find((f) => f.endsWith('.css'));
fs.copyFileSync('src/favicon.svg', path.join(out, 'favicon.svg'));
fs.writeFileSync(
  path.join(out, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>Basalt dashboard</title>
<link rel="icon" href="./favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="./${css}">
<script type="module" src="./${js}"></script>
</head>
<body>
<div id="app"></div>
</body>
</html>
`,
);

let total = 0;
for (const f of [js, css, 'index.html']) {
  total += zlib.gzipSync(fs.readFileSync(path.join(out, f)), { level: 9 }).length;
}
console.log(`ui: built ${path.relative(process.cwd(), out)} (first load ${(total / 1024).toFixed(1)} KB gzipped)`);
