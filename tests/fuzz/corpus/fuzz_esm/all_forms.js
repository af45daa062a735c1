import x from './a.js'
import {a as b, c} from "./b.js";
import * as ns from './c.js'
import d, {e} from './d.js' with { type: "json" };
import './side.js';
export const k = 1, {p, q: [r, ...s]} = obj, t = `a${ `b${1}` }c`
export let u = /re"gex/g.test("x") ? 1 : 2;
export function f() { return import('./lazy.js'); }
export async function g() {}
export class C { import() { return 1 } }
export default function () { return import.meta.url }
(function () {})()
export { k as kk, f as "str name" };
export { z as zz, default as dd } from './e.js';
export * from './f.js'
export * as nsx from './g.js'
const s2 = "import x from 'no'"; // export const no = 1
const o = { export: 1, import: 2 }; o.import(1); a / b / c;
