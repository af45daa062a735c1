/*
 * test_esm.c - the ES module rewrite (src/js/esm.c): each declaration
 * form, the lines kept, and the text that only looks like module syntax
 * (strings, templates, comments, regular expressions, property names)
 * left alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "js/esm.h"

static char *rewrite(const char *text, int *found)
{
    bs_buf b;
    bs_buf_init(&b);
    int n = bsj_esm_transform(text, strlen(text), &b);
    if (found)
        *found = n;
    bs_buf_putc(&b, '\0');
    return bs_buf_steal(&b, NULL);
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The rewrite of text contains want; it kept text's lines. */
static bool has(const char *text, const char *want)
{
    char *out = rewrite(text, NULL);
    bool ok = strstr(out, want) != NULL && lines(out) == lines(text);
    if (!ok)
        fprintf(stderr, "  rewrite of <<%s>> is <<%s>>, wanted <<%s>>\n",
                text, out, want);
    free(out);
    return ok;
}

static bool unchanged(const char *text)
{
    int found = -2;
    char *out = rewrite(text, &found);
    bool ok = strcmp(out, text) == 0 && found == 0;
    if (!ok)
        fprintf(stderr, "  <<%s>> became <<%s>>\n", text, out);
    free(out);
    return ok;
}

TEST(imports)
{
    CHECK(has("import x from './a.js'\n", "const x = __esm.d(require('./a.js'));"));
    CHECK(has("import {a as b, c} from \"m\";", "const {a: b, c: c} = require(\"m\");"));
    CHECK(has("import * as ns from 'm'", "const ns = require('m');"));
    CHECK(has("import d, {e} from 'm'",
              "const __esm_m1 = require('m'), d = __esm.d(__esm_m1), {e: e} = __esm_m1;"));
    CHECK(has("import d, * as ns from 'm'",
              "const __esm_m1 = require('m'), d = __esm.d(__esm_m1), ns = __esm_m1;"));
    CHECK(has("import 'side'", "require('side');"));
    CHECK(has("import {} from 'm'", "const {} = require('m');"));
    CHECK(has("import {\"a-b\" as ab} from 'm'", "const {\"a-b\": ab} = require('m');"));
    CHECK(has("import j from './d.json' with { type: 'json' };\nx()",
              "const j = __esm.d(require('./d.json'));\nx()"));
    /* A declaration over several lines keeps them. */
    CHECK(has("import {\n  a,\n  b,\n} from 'm'\nthrow 1",
              "const {a: a, b: b} = require('m');\n\n\n\nthrow 1"));
    /* A module gets the strict prologue on its first line. */
    CHECK(has("import x from 'm'", "\"use strict\";__esm.x(exports, {});const x"));
}

TEST(exports)
{
    CHECK(has("export const a = 1, b = f(1, 2), {c, d: [e, ...g]} = h;",
              "{\"a\": () => a, \"b\": () => b, \"c\": () => c, \"e\": () => e, \"g\": () => g}"));
    CHECK(has("export const a = 1, b = 2;", "});const a = 1, b = 2;"));
    CHECK(has("export let x = {k: 1}\nexport var y", "\"x\": () => x, \"y\": () => y"));
    CHECK(has("export function f() {}", "});function f() {}"));
    CHECK(has("export async function f() {}", "\"f\": () => f"));
    CHECK(has("export function* gen() {}", "\"gen\": () => gen"));
    CHECK(has("export class C extends B {}", "});class C extends B {}"));
    CHECK(has("export default function named() {}",
              "{\"default\": () => named});function named() {}"));
    CHECK(has("export default class {}\n(1)", "const __esm_default = class {};\n(1)"));
    CHECK(has("export default function () { if (a) { b() } }\n(x)",
              "const __esm_default = function () { if (a) { b() } };\n(x)"));
    CHECK(has("export default {a: 1};", "const __esm_default = {a: 1};"));
    CHECK(has("export default 42", "\"default\": () => __esm_default"));
    CHECK(has("const a = 1; export {a, a as b, a as \"c d\"};",
              "{\"a\": () => a, \"b\": () => a, \"c d\": () => a}"));
    CHECK(has("export {a as default}", "\"default\": () => a"));
    CHECK(has("export {x, y as z} from './m.js'",
              "const __esm_r1 = require('./m.js');"));
    CHECK(has("export {x, y as z} from './m.js'",
              "\"x\": () => __esm_r1[\"x\"], \"z\": () => __esm_r1[\"y\"]"));
    CHECK(has("export * from 'm'", "__esm.star(exports, require('m'));"));
    CHECK(has("export * as ns from 'm'", "\"ns\": () => __esm_r1});const __esm_r1 = require('m');"));
}

TEST(dynamic_import_and_meta)
{
    CHECK(has("const m = await import('./x.js')", "await __esm.imp(require, './x.js')"));
    CHECK(has("f(() => import(`./${n}.js`))", "__esm.imp(require, `./${n}.js`)"));
    CHECK(has("console.log(import.meta.url)", "__esm.meta(__filename).url"));
    /* A method named import is not a call of import(). */
    CHECK(unchanged("class A { import(x) { return x } }"));
    CHECK(unchanged("const o = { import() { return 1 } };"));
    CHECK(unchanged("o.import(1); o?.import; o.export = 2;"));
}

TEST(text_that_only_looks_like_module_syntax)
{
    CHECK(unchanged("const s = \"import x from 'no'\";"));
    CHECK(unchanged("const s = 'export const no = 1';"));
    CHECK(unchanged("// import x from 'no'\n/* export default 1 */ f()"));
    CHECK(unchanged("const t = `line\nimport x from 'no'\n${`export ${1}`}`;"));
    CHECK(unchanged("const r = /import x from 'no'/g; a = b / c / d;"));
    CHECK(unchanged("const r = x.replace(/[/'`]/g, ''); f({import: 1, export: 2})"));
    CHECK(unchanged("if (a) { import_ = 1; exported = 2 }"));
    CHECK(unchanged("label: for (;;) { break label }"));
    /* Inside braces, the keywords are never declarations. */
    CHECK(unchanged("function f() { return { export: 1 } }"));
    /* After a template with code inside, scanning goes on correctly. */
    CHECK(has("const t = `a${ {b: '}'}.b }c`; export const x = 1",
              "\"x\": () => x"));
    /* A regular expression after a keyword that precedes a value. */
    CHECK(has("function f() { return /'/.test(s) }\nexport const y = 2",
              "\"y\": () => y"));
}

TEST(hashbang_line_becomes_a_comment)
{
    CHECK(has("#!/usr/bin/env node\nimport x from 'm'\n",
              "const x = __esm.d(require('m'));"));
    CHECK(has("#!/usr/bin/env node\nconsole.log(1)\n",
              "///usr/bin/env node\nconsole.log(1)\n"));
    CHECK(has("#!", "//"));
    /* Only on the first line. */
    CHECK(unchanged("f()\n#!x"));
}

TEST(malformed_text_passes_through)
{
    /* The engine reports these; the rewrite only must not lose lines. */
    CHECK(has("import {a from 'm'\nx", "import {a from 'm'\nx"));
    CHECK(has("export\n", "export\n"));
    CHECK(has("const s = 'unterminated\nexport const a = 1", "\"a\": () => a"));
    CHECK(has("`never closed ${ import", "`never closed ${ import"));
    CHECK(has("import", "import"));
    CHECK(has("", ""));
}

int main(void)
{
    RUN(imports);
    RUN(exports);
    RUN(dynamic_import_and_meta);
    RUN(text_that_only_looks_like_module_syntax);
    RUN(hashbang_line_becomes_a_comment);
    RUN(malformed_text_passes_through);
    return harness_summary(__FILE__);
}
