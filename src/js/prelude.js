/*
 * prelude.js - the JavaScript half of Basalt's pb_hooks surface, run in
 * every context before the hook files.
 *
 * The globals follow PocketBase's types.d.ts (v0.23+): registrars
 * (routerAdd, routerUse, on*, cronAdd), $app, Record, Collection, the
 * request event, $apis, $http, $security, $os, $filepath, $dbx,
 * console, require, timers. They are thin: the natives on `__n` (the C
 * files of src/js) do the work on opaque handles. The pre-0.23 names
 * are kept as aliases that warn once. A PocketBase name Basalt does not
 * implement exists and throws "<name> is not supported in Basalt yet";
 * docs/js.md lists them.
 *
 * `__bs` is what the C side calls: dispatch (run a handler with its
 * event), runTimers, clearTimers, loadFile, makeError.
 */
(function (global) {
"use strict";

const N = global.__n;
const bs = {};
Object.defineProperty(global, "__bs", {value: bs});

const EV_BASE = 0, EV_RECORD = 1, EV_COLLECTION = 2, EV_REQUEST = 3,
    EV_RECORD_REQUEST = 4, EV_AUTH_REQUEST = 5, EV_MAILER = 6,
    EV_REALTIME = 7, EV_FILE = 8, EV_CRON = 9, EV_BACKUP = 10;

function hidden(obj, name, value) {
    Object.defineProperty(obj, name, {value, writable: true, configurable: true});
}

function unsupported(name) {
    const fn = function () {
        throw new Error(name + " is not supported in Basalt yet");
    };
    hidden(fn, "__unsupported", true);
    return fn;
}

function namespace(name, impl, missing) {
    const ns = Object.assign({}, impl);
    for (const m of missing)
        ns[m] = unsupported(name + "." + m);
    return ns;
}

/* ---- errors ------------------------------------------------------------ */

const defaultMessages = {
    400: "Something went wrong while processing your request.",
    401: "Missing or invalid authentication.",
    403: "You are not allowed to perform this request.",
    404: "The requested resource wasn't found.",
    429: "Too Many Requests.",
    500: "Something went wrong while processing your request.",
};

function ucfirst(s) {
    s = String(s).trim();
    return s ? s[0].toUpperCase() + s.slice(1) : s;
}

function plainData(data) {
    if (!data || typeof data !== "object")
        return {};
    return JSON.parse(JSON.stringify(data));
}

class ApiError extends Error {
    constructor(status, message, data) {
        status = Number(status) || 0;
        const msg = message === undefined || message === null || message === ""
            ? (defaultMessages[status] || "") : ucfirst(message);
        super(msg);
        this.status = status;
        this.data = plainData(data);
        hidden(this, "__api", true);
    }
    get name() { return "ApiError"; }
    toJSON() {
        return {data: this.data, message: this.message, status: this.status};
    }
}

function errorClass(name, status) {
    const cls = class extends ApiError {
        constructor(message, data) { super(status, message, data); }
        get name() { return name; }
    };
    Object.defineProperty(cls, "name", {value: name});
    return cls;
}

const BadRequestError = errorClass("BadRequestError", 400);
const UnauthorizedError = errorClass("UnauthorizedError", 401);
const ForbiddenError = errorClass("ForbiddenError", 403);
const NotFoundError = errorClass("NotFoundError", 404);
const TooManyRequestsError = errorClass("TooManyRequestsError", 429);
const InternalServerError = errorClass("InternalServerError", 500);

class ValidationError {
    constructor(code, message) { this.code = code; this.message = message; }
    toJSON() { return {code: this.code, message: this.message}; }
    error() { return this.message; }
}

bs.makeError = function (status, message, data, code) {
    const e = status ? new ApiError(status, message, data) : new Error(message);
    hidden(e, "__code", code);
    return e;
};

/* ---- timers -------------------------------------------------------------- */

const timers = new Map();
let timerSeq = 0;

function addTimer(fn, ms, args, repeat) {
    if (typeof fn !== "function")
        throw new TypeError("The callback must be a function.");
    const id = ++timerSeq;
    const delay = Math.max(0, Number(ms) || 0);
    timers.set(id, {fn, args, due: N.now() + delay, every: repeat ? Math.max(1, delay) : 0});
    return id;
}

function setTimeout(fn, ms, ...args) { return addTimer(fn, ms, args, false); }
function setInterval(fn, ms, ...args) { return addTimer(fn, ms, args, true); }
function clearTimeout(id) { timers.delete(id); }
function queueMicrotask(fn) { Promise.resolve().then(fn); }

bs.runTimers = function () {
    const now = N.now();
    for (const [id, t] of Array.from(timers)) {
        if (t.due > now || !timers.has(id))
            continue;
        if (t.every)
            t.due = now + t.every;
        else
            timers.delete(id);
        try {
            t.fn(...t.args);
        } catch (err) {
            console.error("a timer callback threw:", err);
        }
    }
    let next = -1;
    const after = N.now();
    for (const t of timers.values()) {
        const wait = Math.max(0, t.due - after);
        if (next < 0 || wait < next)
            next = wait;
    }
    return next;
};

bs.clearTimers = function () { timers.clear(); };

/* ---- dispatch ------------------------------------------------------------ */

bs.dispatch = function (fn, kind, h) {
    if (typeof fn !== "function")
        throw new Error("The handler is not a function.");
    const r = kind === EV_CRON ? fn() : fn(makeEvent(kind, h));
    if (r instanceof Error)
        throw r;
    return promiseState(r);
};

/* What the C side waits on (src/js/loop.c) when a function returned a
 * promise: {done, failed, error}, filled in when it settles. Anything
 * else gives undefined: nothing to wait for. */
function promiseState(r) {
    if (!r || typeof r.then !== "function")
        return undefined;
    const st = {done: false, failed: false, error: undefined};
    r.then((v) => {
        st.done = true;
        if (v instanceof Error) {
            st.failed = true;
            st.error = v;
        }
    }, (err) => {
        st.done = true;
        st.failed = true;
        st.error = err;
    });
    return st;
}

/* ---- modules -------------------------------------------------------------- */

const modules = Object.create(null);
let currentFile = null;

function dirname(p) {
    const i = p.lastIndexOf("/");
    return i <= 0 ? "/" : p.slice(0, i);
}

function runModule(module, text, path) {
    const fn = N.compile(text, path);
    const dir = dirname(path);
    fn.call(module.exports, module.exports, makeRequire(dir), module, path, dir);
}

function makeRequire(dir) {
    return function require(spec) {
        const path = N.resolve(dir, String(spec));
        if (!path)
            throw new Error("Cannot find module '" + spec + "' from " + dir);
        if (modules[path])
            return modules[path].exports;
        const module = {exports: {}, id: path, filename: path, loaded: false};
        modules[path] = module;
        try {
            if (path.endsWith(".json"))
                module.exports = JSON.parse(N.readFile(path));
            else
                runModule(module, N.readFile(path), path);
        } catch (err) {
            delete modules[path];
            throw err;
        }
        module.loaded = true;
        return module.exports;
    };
}

/* ES module files are rewritten into CommonJS at load time (src/js/esm.c);
 * these are the helpers the rewritten text calls. */
const esmHelpers = {
    /* The default import of a module: its `default` export, or a
     * CommonJS module's exports as a whole (as Node does). */
    d(m) { return m && m.__esModule ? m.default : m; },
    /* A module's exports as getters: live, and defined before its body
     * runs (reading one before its declaration throws, as in a module). */
    x(exports, getters) {
        if (!Object.prototype.hasOwnProperty.call(exports, "__esModule"))
            Object.defineProperty(exports, "__esModule", {value: true});
        for (const name of Object.keys(getters))
            Object.defineProperty(exports, name, {get: getters[name], enumerable: true, configurable: true});
    },
    /* export * from: every export but default, unless already defined. */
    star(exports, m) {
        for (const name of Object.keys(m || {})) {
            if (name === "default" || Object.prototype.hasOwnProperty.call(exports, name))
                continue;
            Object.defineProperty(exports, name, {get: () => m[name], enumerable: true, configurable: true});
        }
    },
    /* import(spec): a promise of the module's namespace. */
    imp(require, spec) {
        return new Promise((resolve) => {
            const m = require(String(spec));
            if (m && m.__esModule)
                return resolve(m);
            const ns = Object.assign({}, m);
            ns.default = m;
            resolve(ns);
        });
    },
    meta(filename) {
        return {url: "file://" + filename, filename, dirname: dirname(filename)};
    },
};
Object.defineProperty(global, "__esm", {value: esmHelpers});

/* ---- migrations --------------------------------------------------------------
 * A pb_migrations file calls migrate(up, down) at its top level; the
 * runner (src/js/migrations.c) takes the pair after loading the file and
 * calls one of them inside a transaction. */
let pendingMigration = null;

function migrate(up, down) {
    if (typeof up !== "function")
        throw new Error("migrate expects an up function.");
    pendingMigration = {up, down: typeof down === "function" ? down : null};
}

bs.takeMigration = function () {
    const m = pendingMigration;
    pendingMigration = null;
    return m;
};

bs.runMigration = function (m, down) {
    const fn = down ? m.down : m.up;
    if (!fn)
        return;
    /* The argument is $app (v0.23+); pre-0.23 files get a db whose
     * newQuery works too and wrap it with new Dao(db). */
    const arg = Object.create($app);
    arg.newQuery = (sql) => db.newQuery(sql);
    const r = fn(arg);
    if (r instanceof Error)
        throw r;
    /* An async migration: the runner waits for the promise inside the
     * file's transaction. */
    return promiseState(r);
};

bs.loadFile = function (path, text) {
    currentFile = path;
    try {
        runModule({exports: {}, id: path, filename: path}, text, path);
    } finally {
        currentFile = null;
    }
};

/* ---- records -------------------------------------------------------------- */

const WRAP = {};

function wrapRecord(h) {
    return h ? new Record(WRAP, h) : null;
}

function collectionName(c) {
    if (typeof c === "string")
        return c;
    if (c && (c.id || c.name))
        return c.id || c.name;
    throw new Error("Expected a collection or its name or id.");
}

class DateTime {
    constructor(value) {
        if (value instanceof DateTime)
            value = value._ms;
        if (value === undefined)
            this._ms = Date.now();
        else if (value === "" || value === null)
            this._ms = 0;
        else if (typeof value === "number")
            this._ms = value;
        else {
            const ms = Date.parse(String(value).replace(" ", "T"));
            this._ms = isNaN(ms) ? 0 : ms;
        }
    }
    isZero() { return this._ms === 0; }
    unix() { return Math.floor(this._ms / 1000); }
    time() { return new Date(this._ms); }
    string() {
        return this._ms === 0 ? "" : new Date(this._ms).toISOString().replace("T", " ");
    }
    toString() { return this.string(); }
    toJSON() { return this.string(); }
    add(ms) { return new DateTime(this._ms + Number(ms)); }
    addDate(y, m, d) {
        const t = new Date(this._ms);
        t.setUTCFullYear(t.getUTCFullYear() + y, t.getUTCMonth() + m, t.getUTCDate() + d);
        return new DateTime(t.getTime());
    }
    before(o) { return this._ms < new DateTime(o)._ms; }
    after(o) { return this._ms > new DateTime(o)._ms; }
    equal(o) { return this._ms === new DateTime(o)._ms; }
}

class Record {
    constructor(collection, data) {
        if (collection === WRAP) {
            hidden(this, "__h", data);
            return;
        }
        hidden(this, "__h", N.recNew(collectionName(collection)));
        if (data)
            this.load(data);
    }
    get id() { return N.recId(this.__h); }
    set id(v) { N.recSet(this.__h, "id", v); }
    get(field) { return N.recGet(this.__h, field); }
    set(field, value) {
        if (value instanceof Record)
            value = value.id;
        else if (Array.isArray(value))
            value = value.map((v) => v instanceof Record ? v.id : v);
        else if (value instanceof DateTime)
            value = value.string();
        N.recSet(this.__h, field, value);
    }
    load(data) {
        for (const k of Object.keys(data || {}))
            this.set(k, data[k]);
    }
    getString(f) { return N.recString(this.__h, f); }
    getInt(f) { return N.recInt(this.__h, f); }
    getFloat(f) { return N.recFloat(this.__h, f); }
    getBool(f) { return N.recBool(this.__h, f); }
    getDateTime(f) { return new DateTime(N.recDate(this.__h, f)); }
    getStringSlice(f) { return N.recStringList(this.__h, f); }
    getRaw(f) { return this.get(f); }
    collection() { return $app.findCollectionByNameOrId(N.recCollectionId(this.__h)); }
    tableName() { return N.recCollectionName(this.__h); }
    isNew() { return N.recIsNew(this.__h); }
    markAsNew() { throw new Error("record.markAsNew is not supported in Basalt yet"); }
    original() { return wrapRecord(N.recOriginal(this.__h)); }
    fresh() { return this.isNew() ? this : $app.findRecordById(this.tableName(), this.id); }
    clone() { return new Record(N.recCollectionId(this.__h), N.recFields(this.__h)); }
    email() { return this.getString("email"); }
    setEmail(v) { this.set("email", v); }
    verified() { return this.getBool("verified"); }
    setVerified(v) { this.set("verified", !!v); }
    emailVisibility() { return this.getBool("emailVisibility"); }
    setEmailVisibility(v) { this.set("emailVisibility", !!v); }
    tokenKey() { return this.getString("tokenKey"); }
    setTokenKey(v) { this.set("tokenKey", v); }
    refreshTokenKey() { this.set("tokenKey", $security.randomString(50)); }
    setPassword(pw) { this.set("password", pw); }
    setRandomPassword() {
        const pw = $security.randomString(30);
        this.set("password", pw);
        return pw;
    }
    validatePassword(pw) { return N.recValidatePassword(this.__h, String(pw)); }
    isSuperuser() { return N.recCollectionName(this.__h) === "_superusers"; }
    expandedOne(name) {
        const list = N.recExpanded(this.__h, name);
        return list.length ? wrapRecord(list[0]) : null;
    }
    expandedAll(name) { return N.recExpanded(this.__h, name).map(wrapRecord); }
    publicExport() { return N.recExport(this.__h); }
    toJSON() { return N.recExport(this.__h); }
    toString() { return JSON.stringify(this); }
}

/* ---- collections ----------------------------------------------------------- */

class FieldsList extends Array {
    getByName(name) { return this.find((f) => f && f.name === name) || null; }
    getById(id) { return this.find((f) => f && f.id === id) || null; }
    add(...fields) {
        for (const f of fields) {
            const i = this.findIndex((x) => x && ((f.id && x.id === f.id) || x.name === f.name));
            if (i >= 0)
                this[i] = f;
            else
                this.push(f);
        }
    }
    addAt(pos, ...fields) {
        for (const f of fields) {
            const i = this.findIndex((x) => x && ((f.id && x.id === f.id) || x.name === f.name));
            if (i >= 0)
                this.splice(i, 1);
            this.splice(Math.min(Math.max(Number(pos) || 0, 0), this.length), 0, f);
            pos = (Number(pos) || 0) + 1;
        }
    }
    removeByName(name) {
        const i = this.findIndex((f) => f && f.name === name);
        if (i >= 0)
            this.splice(i, 1);
    }
    removeById(id) {
        const i = this.findIndex((f) => f && f.id === id);
        if (i >= 0)
            this.splice(i, 1);
    }
    fieldNames() { return this.map((f) => f.name); }
}

function toFields(list) {
    const out = new FieldsList();
    for (const f of list || [])
        out.push(f);
    return out;
}

class Collection {
    constructor(data) {
        Object.assign(this, {id: "", name: "", type: "base", system: false,
                             listRule: null, viewRule: null, createRule: null,
                             updateRule: null, deleteRule: null, indexes: []},
                      data || {});
        this.fields = toFields(this.fields);
        if (Array.isArray(this.schema))
            this.schema = new Schema(this.schema);
    }
    isAuth() { return this.type === "auth"; }
    isBase() { return this.type === "base"; }
    isView() { return this.type === "view"; }
    tableName() { return this.name; }
    toJSON() {
        const out = Object.assign({}, this, {fields: Array.from(this.fields)});
        if (this.schema instanceof Schema)
            out.schema = this.schema.toJSON();
        return out;
    }
}

/* The pre-0.23 collection.schema (SchemaField objects with options). */
class Schema {
    constructor(list) { hidden(this, "list", Array.from(list || [])); }
    fields() { return this.list; }
    getFieldById(id) { return this.list.find((f) => f.id === id) || null; }
    getFieldByName(name) { return this.list.find((f) => f.name === name) || null; }
    addField(f) {
        const i = this.list.findIndex((x) => (f.id && x.id === f.id) || x.name === f.name);
        if (i >= 0)
            this.list[i] = f;
        else
            this.list.push(f);
    }
    removeField(id) {
        const i = this.list.findIndex((f) => f.id === id);
        if (i >= 0)
            this.list.splice(i, 1);
    }
    toJSON() { return this.list.map((f) => Object.assign({}, f)); }
}

/* Copies data into dst as Go's json.Unmarshal does for a PocketBase
 * model: keys present replace, the rest stays. */
function unmarshal(data, dst) {
    if (typeof data === "string")
        data = JSON.parse(data);
    if (!dst || typeof dst !== "object")
        throw new Error("unmarshal expects a destination object.");
    Object.assign(dst, data);
    if (dst instanceof Collection) {
        if (data && "fields" in data)
            dst.fields = toFields(data.fields);
        if (data && Array.isArray(data.schema))
            dst.schema = new Schema(data.schema);
    }
    return dst;
}

function collectionJSON(c) { return JSON.parse(JSON.stringify(c)); }

/* Saves a collection: an update when its id (or, without one, its name)
 * is stored, else a create. The pre-0.23 shape goes through the import,
 * which reads it. */
function saveCollection(c) {
    const json = collectionJSON(c);
    if (Array.isArray(json.schema) && !(c.fields && c.fields.length)) {
        delete json.fields;
        N.colImport([json], false);
        Object.assign(c, N.colFind(json.id || json.name) || {});
        c.fields = toFields(c.fields);
        return;
    }
    delete json.schema;
    let stored = json.id ? N.colFind(json.id) : null;
    if (stored && stored.id !== json.id)
        stored = null;
    if (!stored && !json.id && json.name) {
        stored = N.colFind(json.name);
        if (stored)
            json.id = stored.id;
    }
    const saved = N.colSave(json, !stored);
    Object.assign(c, saved);
    c.fields = toFields(saved.fields);
}

function deleteCollection(c) {
    let id = c.id;
    if (!id) {
        const stored = N.colFind(c.name);
        if (!stored)
            throw notFound();
        id = stored.id;
    }
    N.colDelete({id: id, name: c.name});
}

function fieldClass(type) {
    return class {
        constructor(data) { Object.assign(this, data || {}, {type}); }
    };
}

const fieldTypes = {
    TextField: "text", NumberField: "number", BoolField: "bool",
    EmailField: "email", URLField: "url", EditorField: "editor",
    DateField: "date", AutodateField: "autodate", SelectField: "select",
    JSONField: "json", FileField: "file", RelationField: "relation",
    PasswordField: "password", GeoPointField: "geoPoint",
};

/* ---- $app ------------------------------------------------------------------- */

function mergeParams(list) {
    const out = {};
    for (const p of list)
        if (p && typeof p === "object")
            Object.assign(out, p);
    return out;
}

function notFound() {
    const e = new NotFoundError();
    e.cause = "sql: no rows in result set";
    return e;
}

function exprFilter(exprs) {
    const parts = [], params = {};
    for (const e of exprs) {
        if (!e)
            continue;
        if (!e.__filter)
            throw new Error("Only $dbx.hashExp expressions are supported by Basalt's record finders yet");
        parts.push("(" + e.__filter + ")");
        Object.assign(params, e.params);
    }
    return {filter: parts.join(" && "), params};
}

function identifier(name) {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(String(name)))
        throw new Error("Invalid field name " + JSON.stringify(name));
    return String(name);
}

class Query {
    constructor(sql) { this.sql = sql; this.params = {}; }
    bind(params) { Object.assign(this.params, params || {}); return this; }
    all(dst) {
        const rows = N.dbAll(this.sql, this.params);
        if (Array.isArray(dst)) {
            dst.length = 0;
            for (const r of rows)
                dst.push(dst.__model ? Object.assign(Object.create(Object.getPrototypeOf(dst.__model)), dst.__model, pick(r, dst.__model)) : r);
            return dst;
        }
        return rows;
    }
    one(dst) {
        const rows = N.dbAll(this.sql, this.params);
        if (!rows.length)
            throw notFound();
        if (dst && typeof dst === "object") {
            Object.assign(dst, dst instanceof DynamicModel ? pick(rows[0], dst) : rows[0]);
            return dst;
        }
        return rows[0];
    }
    execute() {
        const n = N.dbExec(this.sql, this.params);
        return {rowsAffected: () => n, lastInsertId: () => 0};
    }
    column(dst) {
        const rows = this.all();
        const out = rows.map((r) => r[Object.keys(r)[0]]);
        if (Array.isArray(dst)) {
            dst.length = 0;
            dst.push(...out);
            return dst;
        }
        return out;
    }
    row(...dst) {
        throw new Error("query.row is not supported in Basalt yet");
    }
}

/* The columns of row that model declares, each turned into the type of
 * the model's value as Go's scan would: a string, a number, a boolean,
 * an array or object (from JSON text), or for a null* value the value
 * or null. */
function pick(row, model) {
    const out = {};
    for (const k of Object.keys(model))
        if (k in row)
            out[k] = scanValue(row[k], model[k]);
    return out;
}

function scanValue(v, like) {
    let kind = like instanceof NullValue ? like.kind : like === null ? "any" : Array.isArray(like) ? "array" : typeof like;
    if (like instanceof NullValue && (v === null || v === undefined))
        return null;
    switch (kind) {
    case "string":
        return v === null || v === undefined ? "" : typeof v === "string" ? v : String(v);
    case "number":
        return v === null || v === undefined || v === "" ? 0 : Number(v);
    case "boolean":
        return typeof v === "string" ? /^(1|t|true)$/i.test(v) : Boolean(v);
    case "array":
    case "object":
        if (typeof v === "string") {
            try {
                return JSON.parse(v);
            } catch (e) {
                return v;
            }
        }
        return v === null || v === undefined ? (kind === "array" ? [] : {}) : v;
    default:
        return v;
    }
}

/* The value of a DynamicModel property that may be null (nullString()
 * and the others): scanning replaces it with the column's value or null. */
class NullValue {
    constructor(kind) { hidden(this, "kind", kind); }
    toJSON() { return null; }
}

const db = namespace("$app.db()", {
    newQuery(sql) { return new Query(String(sql)); },
}, ["select", "insert", "update", "delete", "createTable", "dropTable",
    "truncateTable", "model"]);

let inTx = 0;

const $app = {
    save(model) {
        if (model instanceof Record)
            return N.save(model.__h);
        if (model instanceof Collection)
            return saveCollection(model);
        throw new Error("$app.save expects a Record or a Collection.");
    },
    saveNoValidate(model) { return this.save(model); },
    saveWithContext(ctx, model) { return this.save(model); },
    delete(model) {
        if (model instanceof Record)
            return N.del(model.__h);
        if (model instanceof Collection)
            return deleteCollection(model);
        throw new Error("$app.delete expects a Record or a Collection.");
    },
    deleteWithContext(ctx, model) { return this.delete(model); },
    findRecordById(collection, id) {
        const h = N.findById(collectionName(collection), String(id));
        if (!h)
            throw notFound();
        return wrapRecord(h);
    },
    findRecordsByIds(collection, ids) {
        ids = Array.from(ids || []);
        if (!ids.length)
            return [];
        const params = {}, parts = [];
        ids.forEach((id, i) => {
            params["id" + i] = String(id);
            parts.push("id = {:id" + i + "}");
        });
        return this.findRecordsByFilter(collection, parts.join(" || "), "", 0, 0, params);
    },
    findRecordsByFilter(collection, filter, sort, limit, offset, ...params) {
        return N.findByFilter(collectionName(collection), String(filter || ""),
                              String(sort || ""), Number(limit) || 0,
                              Number(offset) || 0, mergeParams(params)).map(wrapRecord);
    },
    findFirstRecordByFilter(collection, filter, ...params) {
        const h = N.findFirst(collectionName(collection), String(filter || ""), mergeParams(params));
        if (!h)
            throw notFound();
        return wrapRecord(h);
    },
    findFirstRecordByData(collection, key, value) {
        return this.findFirstRecordByFilter(collection, identifier(key) + " = {:value}", {value});
    },
    findAllRecords(collection, ...exprs) {
        const q = exprFilter(exprs);
        return this.findRecordsByFilter(collection, q.filter, "", 0, 0, q.params);
    },
    countRecords(collection, ...exprs) {
        const q = exprFilter(exprs);
        return N.count(collectionName(collection), q.filter, q.params);
    },
    findAuthRecordByEmail(collection, email) {
        return this.findFirstRecordByFilter(collection, "email = {:email}", {email: String(email)});
    },
    findCollectionByNameOrId(nameOrId) {
        const c = N.colFind(String(nameOrId));
        if (!c)
            throw notFound();
        return new Collection(c);
    },
    findCachedCollectionByNameOrId(nameOrId) { return this.findCollectionByNameOrId(nameOrId); },
    findAllCollections(...types) {
        const all = N.colAll().map((c) => new Collection(c));
        return types.length ? all.filter((c) => types.includes(c.type)) : all;
    },
    expandRecord(record, expands) {
        N.expand(record.__h, Array.isArray(expands) ? expands.join(",") : String(expands || ""));
        return {};
    },
    expandRecords(records, expands) {
        for (const r of records)
            this.expandRecord(r, expands);
        return {};
    },
    runInTransaction(fn) {
        N.tx(() => {
            inTx++;
            try {
                const r = fn($app);
                if (r && typeof r.then === "function")
                    throw new Error("runInTransaction: the callback must not be async in Basalt (the transaction ends when it returns)");
                if (r instanceof Error)
                    throw r;
            } finally {
                inTx--;
            }
        });
    },
    importCollections(list, deleteMissing) {
        N.colImport(Array.from(list || [], collectionJSON), !!deleteMissing);
    },
    importCollectionsByMarshaledJSON(raw, deleteMissing) {
        this.importCollections(JSON.parse(typeof raw === "string" ? raw : toStringValue(raw)), deleteMissing);
    },
    db() { return db; },
    nonconcurrentDB() { return db; },
    concurrentDB() { return db; },
    auxDB() { throw new Error("$app.auxDB is not supported in Basalt yet"); },
    settings() { return N.settings(); },
    logger() { return logger; },
    newMailClient() {
        return {send(message) { N.sendMail(Object.assign({}, message)); }};
    },
    isTransactional() { return inTx > 0; },
    dao() {
        warnLegacy(20, "$app.dao()", "the $app methods");
        return dao;
    },
};

for (const m of ["bootstrap", "isBootstrapped", "restart", "resetBootstrapState",
                 "dataDir", "encryptionEnv", "isDev", "store", "cron",
                 "subscriptionsBroker", "newFilesystem", "newBackupsFilesystem",
                 "reloadSettings", "createBackup", "restoreBackup",
                 "findAuthRecordByToken", "recordQuery", "collectionQuery",
                 "logQuery", "truncateCollection", "syncRecordTableSchema",
                 "validate", "hasTable", "tableColumns", "tableInfo",
                 "deleteTable", "vacuum", "canAccessRecord", "deleteOldLogs"])
    $app[m] = unsupported("$app." + m);

const logger = (() => {
    function fmt(msg, args) {
        let s = String(msg);
        for (let i = 0; i + 1 < args.length; i += 2)
            s += " " + args[i] + "=" + stringify(args[i + 1]);
        return s;
    }
    return {
        debug(msg, ...kv) { N.log("D", fmt(msg, kv)); },
        info(msg, ...kv) { N.log("I", fmt(msg, kv)); },
        warn(msg, ...kv) { N.log("W", fmt(msg, kv)); },
        error(msg, ...kv) { N.log("E", fmt(msg, kv)); },
        with() { return this; },
        withGroup() { return this; },
    };
})();

function stringify(v) {
    if (typeof v === "string")
        return v;
    if (v instanceof Error)
        return v.stack ? v.name + ": " + v.message : String(v);
    try {
        const s = JSON.stringify(v);
        return s === undefined ? String(v) : s;
    } catch (err) {
        return String(v);
    }
}

const console = {
    log(...a) { N.log("I", a.map(stringify).join(" ")); },
    info(...a) { N.log("I", a.map(stringify).join(" ")); },
    debug(...a) { N.log("D", a.map(stringify).join(" ")); },
    warn(...a) { N.log("W", a.map(stringify).join(" ")); },
    error(...a) { N.log("E", a.map(stringify).join(" ")); },
};

/* ---- $dbx --------------------------------------------------------------- */

let paramSeq = 0;

const $dbx = namespace("$dbx", {
    hashExp(map) {
        const parts = [], params = {};
        for (const k of Object.keys(map || {})) {
            const p = "h" + (++paramSeq);
            params[p] = map[k];
            parts.push(identifier(k) + " = {:" + p + "}");
        }
        return {__filter: parts.join(" && ") || "1 = 1", params};
    },
    and(...exprs) {
        const q = exprFilter(exprs);
        return {__filter: q.filter || "1 = 1", params: q.params};
    },
    or(...exprs) {
        const parts = [], params = {};
        for (const e of exprs) {
            const q = exprFilter([e]);
            parts.push("(" + q.filter + ")");
            Object.assign(params, q.params);
        }
        return {__filter: parts.join(" || ") || "1 = 1", params};
    },
}, ["exp", "not", "in", "notIn", "like", "orLike", "notLike", "orNotLike",
    "exists", "notExists", "between", "notBetween"]);

/* ---- events --------------------------------------------------------------- */

function makeEvent(kind, h) {
    switch (kind) {
    case EV_REQUEST: return new RequestEvent(h);
    case EV_RECORD_REQUEST: return new RecordRequestEvent(h);
    case EV_AUTH_REQUEST: return new RecordAuthRequestEvent(h);
    case EV_RECORD: return new RecordEvent(h);
    case EV_COLLECTION: return new CollectionEvent(h);
    case EV_MAILER: return new MailerEvent(h);
    case EV_REALTIME: return new RealtimeEvent(h);
    case EV_FILE: return new FileEvent(h);
    case EV_BACKUP: return new BackupEvent(h);
    default: return new Event(h);
    }
}

class Event {
    constructor(h) {
        hidden(this, "__h", h);
        hidden(this, "__nextCalled", false);
    }
    get app() { return $app; }
    next() {
        this.__nextCalled = true;
        this.__beforeNext();
        N.next(this.__h);
    }
    __beforeNext() {}
}

class RecordEvent extends Event {
    get record() {
        if (this.__record === undefined)
            hidden(this, "__record", wrapRecord(N.evRecord(this.__h)));
        return this.__record;
    }
    get model() { return this.record; }
    get type() { return N.evInfo(this.__h).type || ""; }
}

class CollectionEvent extends Event {
    get collection() {
        if (this.__col === undefined)
            hidden(this, "__col", new Collection(N.evInfo(this.__h).collection));
        return this.__col;
    }
    __beforeNext() {
        if (this.__col)
            N.evSet(this.__h, "collection", JSON.parse(JSON.stringify(this.__col)));
    }
}

class Request {
    constructor(h) { hidden(this, "__h", h); }
    get method() { return N.reqMethod(this.__h); }
    get url() {
        const raw = N.reqUrl(this.__h);
        const q = raw.indexOf("?");
        const path = N.reqPath(this.__h);
        const rawQuery = q >= 0 ? raw.slice(q + 1) : "";
        const h = this.__h;
        return {
            path, rawQuery,
            query() {
                return {
                    get: (k) => N.reqQuery(h, k) || "",
                    has: (k) => N.reqQuery(h, k) !== null,
                };
            },
            string() { return raw; },
            toString() { return raw; },
        };
    }
    get header() {
        const h = this.__h;
        return {get: (name) => N.reqHeader(h, String(name)) || ""};
    }
    get host() { return N.reqHeader(this.__h, "Host") || ""; }
    get remoteAddr() { return N.reqRemoteIp(this.__h); }
    get body() { return N.reqBody(this.__h); }
    pathValue(name) { return N.reqParam(this.__h, String(name)) || ""; }
    toString() { return this.method + " " + N.reqUrl(this.__h); }
}

class RequestEvent extends Event {
    constructor(h) {
        super(h);
        hidden(this, "__store", new Map());
    }
    get request() {
        if (!this.__req) {
            const req = new Request(this.__h);
            /* The pre-0.23 `c.request()` is a call. */
            const fn = () => { warnLegacy(21, "c.request()", "e.request"); return req; };
            Object.setPrototypeOf(fn, req);
            hidden(this, "__req", fn);
        }
        return this.__req;
    }
    get auth() {
        if (this.__auth === undefined) {
            const a = N.reqAuth(this.__h);
            let rec = null;
            if (a) {
                try {
                    rec = $app.findRecordById(a.collection, a.id);
                } catch (err) {
                    rec = null;
                }
            }
            hidden(this, "__auth", rec);
        }
        return this.__auth;
    }
    hasSuperuserAuth() { return N.reqIsSuperuser(this.__h); }
    isTLS() { return false; }
    remoteIP() { return N.reqRemoteIp(this.__h); }
    realIP() { return N.reqRemoteIp(this.__h); }
    written() { return N.responded(this.__h); }
    status() { return N.respStatus(this.__h); }
    get(key) {
        if (key === "authRecord") {
            warnLegacy(22, "c.get(\"authRecord\")", "e.auth");
            return this.auth;
        }
        if (key === "admin") {
            warnLegacy(22, "c.get(\"admin\")", "e.auth");
            return this.hasSuperuserAuth() ? this.auth : null;
        }
        return this.__store.get(key);
    }
    set(key, value) { this.__store.set(key, value); }
    getAll() { return Object.fromEntries(this.__store); }
    json(status, data) {
        N.respond(this.__h, status, "application/json",
                  JSON.stringify(data === undefined ? null : data));
    }
    string(status, s) { N.respond(this.__h, status, "text/plain; charset=utf-8", String(s)); }
    html(status, s) { N.respond(this.__h, status, "text/html; charset=utf-8", String(s)); }
    xml(status, s) { N.respond(this.__h, status, "application/xml; charset=utf-8", String(s)); }
    blob(status, contentType, bytes) {
        N.respond(this.__h, status, String(contentType), bytes);
    }
    noContent(status) { N.respond(this.__h, status === undefined ? 204 : status, null, null); }
    redirect(status, url) {
        N.respHeader(this.__h, "Location", String(url));
        N.respond(this.__h, status, null, null);
    }
    stream() { throw new Error("e.stream is not supported in Basalt yet"); }
    fileFS() { throw new Error("e.fileFS is not supported in Basalt yet"); }
    flush() {}
    setCookie(cookie) {
        const c = cookie || {};
        let s = c.name + "=" + encodeURIComponent(c.value || "");
        if (c.path) s += "; Path=" + c.path;
        if (c.maxAge) s += "; Max-Age=" + c.maxAge;
        if (c.httpOnly) s += "; HttpOnly";
        if (c.secure) s += "; Secure";
        N.respHeader(this.__h, "Set-Cookie", s);
    }
    requestInfo() {
        const info = N.reqInfo(this.__h);
        info.auth = this.auth;
        return info;
    }
    bindBody(dst) {
        const body = N.reqInfo(this.__h).body || {};
        if (dst instanceof Record)
            dst.load(body);
        else if (dst instanceof DynamicModel)
            Object.assign(dst, pick(body, dst));
        else if (dst && typeof dst === "object")
            Object.assign(dst, body);
        return dst;
    }
    findUploadedFiles() { throw new Error("e.findUploadedFiles is not supported in Basalt yet"); }
    error(status, message, data) { return new ApiError(status, message, data); }
    badRequestError(message, data) { return new BadRequestError(message, data); }
    notFoundError(message, data) { return new NotFoundError(message, data); }
    forbiddenError(message, data) { return new ForbiddenError(message, data); }
    unauthorizedError(message, data) { return new UnauthorizedError(message, data); }
    tooManyRequestsError(message, data) { return new TooManyRequestsError(message, data); }
    internalServerError(message, data) { return new InternalServerError(message, data); }
    /* Pre-0.23 echo context. */
    pathParam(name) {
        warnLegacy(23, "c.pathParam()", "e.request.pathValue()");
        return N.reqParam(this.__h, String(name)) || "";
    }
    queryParam(name) {
        warnLegacy(24, "c.queryParam()", "e.request.url.query().get()");
        return N.reqQuery(this.__h, String(name)) || "";
    }
    get httpContext() { return this; }
}

class RecordRequestEvent extends RequestEvent {
    get record() {
        if (this.__record === undefined)
            hidden(this, "__record", wrapRecord(N.evRecord(this.__h)));
        return this.__record;
    }
    get collection() {
        if (this.__col === undefined) {
            const info = N.evInfo(this.__h);
            let col = null;
            if (info.collection) {
                const c = N.colFind(info.collection);
                col = c ? new Collection(c) : null;
            }
            hidden(this, "__col", col);
        }
        return this.__col;
    }
}

class RecordAuthRequestEvent extends RecordRequestEvent {
    get authMethod() { return N.evInfo(this.__h).authMethod || ""; }
    get token() { return N.evInfo(this.__h).token || ""; }
    set token(v) { N.evSet(this.__h, "token", String(v)); }
    get meta() { return N.evInfo(this.__h).meta || null; }
    get identity() { return N.evInfo(this.__h).identity || ""; }
    get identityField() { return N.evInfo(this.__h).identityField || ""; }
    get password() { return N.evInfo(this.__h).password || ""; }
    get providerName() { return N.evInfo(this.__h).provider || ""; }
    get isNewRecord() { return !!N.evInfo(this.__h).isNewRecord; }
}

class MailerEvent extends Event {
    get message() {
        if (this.__msg === undefined)
            hidden(this, "__msg", N.evInfo(this.__h).message || {});
        return this.__msg;
    }
    get record() {
        if (this.__record === undefined)
            hidden(this, "__record", wrapRecord(N.evRecord(this.__h)));
        return this.__record;
    }
    get meta() { return N.evInfo(this.__h).meta || {}; }
    __beforeNext() {
        if (this.__msg)
            N.evSet(this.__h, "message", this.__msg);
    }
}

class RealtimeEvent extends RequestEvent {
    get client() {
        const id = N.evInfo(this.__h).clientId;
        return {id: () => id};
    }
    get subscriptions() { return N.evInfo(this.__h).subscriptions || []; }
    set subscriptions(v) { N.evSet(this.__h, "subscriptions", Array.from(v)); }
    get idleTimeout() { return N.evInfo(this.__h).idleTimeout; }
    set idleTimeout(v) { N.evSet(this.__h, "idleTimeout", Number(v)); }
    get message() {
        const i = N.evInfo(this.__h);
        return {name: i.name, data: i.data};
    }
}

class BackupEvent extends Event {
    get name() { return N.evInfo(this.__h).name || ""; }
    get exclude() { return N.evInfo(this.__h).exclude || []; }
}

class FileEvent extends RecordRequestEvent {
    get fileField() { return {name: N.evInfo(this.__h).field || ""}; }
    get servedPath() { return N.evInfo(this.__h).servedPath || ""; }
    get servedName() { return N.evInfo(this.__h).servedName || ""; }
    set servedName(v) { N.evSet(this.__h, "servedName", String(v)); }
    get token() { return N.evInfo(this.__h).token || ""; }
    set token(v) { N.evSet(this.__h, "token", String(v)); }
}

/* ---- registrars --------------------------------------------------------------- */

function register(meta, fn) {
    if (!currentFile)
        throw new Error("Handlers can only be registered while a hook file loads (at its top level).");
    meta.file = currentFile;
    meta.priority = meta.priority || 0;
    meta.route = meta.route || 0;
    return N.register(meta, fn);
}

function checkFn(fn, what) {
    if (typeof fn !== "function")
        throw new TypeError(what + " expects a function.");
    return fn;
}

class Middleware {
    constructor(fn, priority, id) {
        this.fn = fn;
        this.priority = priority || 0;
        this.id = id || "";
    }
}

function registerMiddleware(kind, m, route) {
    if (typeof m === "function")
        return register({kind, route}, m);
    if (m instanceof Middleware) {
        if (m.__builtin)
            return register({kind, route, priority: m.priority, builtin: m.__builtin, args: m.__args}, null);
        return register({kind, route, priority: m.priority}, checkFn(m.fn, "Middleware"));
    }
    throw new TypeError("A middleware is a function or a Middleware.");
}

function builtinMiddleware(name, args, priority) {
    const m = new Middleware(null, priority || 0, name);
    hidden(m, "__builtin", name);
    hidden(m, "__args", args);
    return m;
}

function routerPath(path) {
    let p = String(path);
    if (/(^|\/):[A-Za-z_]/.test(p)) {
        warnLegacy(25, "route parameters written :name", "{name}");
        p = p.replace(/(^|\/):([A-Za-z_][A-Za-z0-9_]*)/g, "$1{$2}");
    }
    if (/\/\*$/.test(p))
        p = p.replace(/\/\*$/, "/{path...}");
    return p;
}

function routerAdd(method, path, handler, ...middlewares) {
    const m = String(method).toUpperCase();
    const i = register({kind: "route", method: m === "*" || m === "" ? null : m,
                        path: routerPath(path)}, checkFn(handler, "routerAdd"));
    for (const mw of middlewares)
        registerMiddleware("route_mw", mw, i);
}

function routerUse(...middlewares) {
    for (const mw of middlewares)
        registerMiddleware("use", mw, 0);
}

function cronAdd(id, expr, handler) {
    register({kind: "cron", method: String(id), path: String(expr)}, checkFn(handler, "cronAdd"));
}

function cronRemove(id) { N.cronRemove(String(id)); }

const hookNames = [
    "onBootstrap", "onServe", "onTerminate", "onSettingsReload",
    "onRecordValidate", "onRecordCreate", "onRecordCreateExecute",
    "onRecordAfterCreateSuccess", "onRecordAfterCreateError",
    "onRecordUpdate", "onRecordUpdateExecute", "onRecordAfterUpdateSuccess",
    "onRecordAfterUpdateError", "onRecordDelete", "onRecordDeleteExecute",
    "onRecordAfterDeleteSuccess", "onRecordAfterDeleteError", "onRecordEnrich",
    "onCollectionValidate", "onCollectionCreate", "onCollectionCreateExecute",
    "onCollectionAfterCreateSuccess", "onCollectionAfterCreateError",
    "onCollectionUpdate", "onCollectionUpdateExecute",
    "onCollectionAfterUpdateSuccess", "onCollectionAfterUpdateError",
    "onCollectionDelete", "onCollectionDeleteExecute",
    "onCollectionAfterDeleteSuccess", "onCollectionAfterDeleteError",
    "onRecordsListRequest", "onRecordViewRequest", "onRecordCreateRequest",
    "onRecordUpdateRequest", "onRecordDeleteRequest",
    "onCollectionsListRequest", "onCollectionViewRequest",
    "onCollectionCreateRequest", "onCollectionUpdateRequest",
    "onCollectionDeleteRequest", "onCollectionsImportRequest",
    "onSettingsListRequest", "onSettingsUpdateRequest", "onBatchRequest",
    "onRecordAuthRequest", "onRecordAuthWithPasswordRequest",
    "onRecordAuthRefreshRequest", "onRecordAuthWithOAuth2Request",
    "onRecordAuthWithOTPRequest", "onRecordRequestOTPRequest",
    "onRecordRequestPasswordResetRequest", "onRecordConfirmPasswordResetRequest",
    "onRecordRequestVerificationRequest", "onRecordConfirmVerificationRequest",
    "onRecordRequestEmailChangeRequest", "onRecordConfirmEmailChangeRequest",
    "onMailerSend", "onMailerRecordAuthAlertSend",
    "onMailerRecordPasswordResetSend", "onMailerRecordVerificationSend",
    "onMailerRecordEmailChangeSend", "onMailerRecordOTPSend",
    "onRealtimeConnectRequest", "onRealtimeSubscribeRequest",
    "onRealtimeMessageSend", "onFileDownloadRequest", "onFileTokenRequest",
    "onBackupCreate", "onBackupRestore",
];

const hooks = {};
for (const name of hookNames) {
    hooks[name] = function (handler, ...tags) {
        register({kind: "hook", hook: name, tags: tags.map(String)}, checkFn(handler, name));
    };
}

/* ---- the pre-0.23 names --------------------------------------------------------- */

function warnLegacy(i, oldName, newName) { N.warnLegacy(i, oldName, newName); }

/* A legacy handler did not call next: it runs first, then the chain
 * goes on unless it threw (or called next itself). */
function legacyBefore(fn) {
    return function (e) {
        const r = fn(e);
        if (r && typeof r.then === "function")
            return r.then((v) => { if (v instanceof Error) throw v; if (!e.__nextCalled) e.next(); });
        if (r instanceof Error)
            throw r;
        if (!e.__nextCalled)
            e.next();
    };
}

/* A legacy "after" handler runs once the chain completed. */
function legacyAfter(fn) {
    return function (e) {
        e.next();
        return fn(e);
    };
}

const legacyHooks = {
    onBeforeBootstrap: ["onBootstrap", legacyBefore],
    onAfterBootstrap: ["onBootstrap", legacyAfter],
    onBeforeServe: ["onServe", legacyBefore],
    onModelBeforeCreate: ["onRecordCreate", legacyBefore],
    onModelAfterCreate: ["onRecordAfterCreateSuccess", legacyBefore],
    onModelBeforeUpdate: ["onRecordUpdate", legacyBefore],
    onModelAfterUpdate: ["onRecordAfterUpdateSuccess", legacyBefore],
    onModelBeforeDelete: ["onRecordDelete", legacyBefore],
    onModelAfterDelete: ["onRecordAfterDeleteSuccess", legacyBefore],
    onRecordBeforeCreateRequest: ["onRecordCreateRequest", legacyBefore],
    onRecordAfterCreateRequest: ["onRecordCreateRequest", legacyAfter],
    onRecordBeforeUpdateRequest: ["onRecordUpdateRequest", legacyBefore],
    onRecordAfterUpdateRequest: ["onRecordUpdateRequest", legacyAfter],
    onRecordBeforeDeleteRequest: ["onRecordDeleteRequest", legacyBefore],
    onRecordAfterDeleteRequest: ["onRecordDeleteRequest", legacyAfter],
    onRecordBeforeAuthWithPasswordRequest: ["onRecordAuthWithPasswordRequest", legacyBefore],
    onRecordAfterAuthWithPasswordRequest: ["onRecordAuthWithPasswordRequest", legacyAfter],
    onRecordBeforeAuthWithOAuth2Request: ["onRecordAuthWithOAuth2Request", legacyBefore],
    onRecordAfterAuthWithOAuth2Request: ["onRecordAuthWithOAuth2Request", legacyAfter],
    onRecordBeforeAuthRefreshRequest: ["onRecordAuthRefreshRequest", legacyBefore],
    onRecordAfterAuthRefreshRequest: ["onRecordAuthRefreshRequest", legacyAfter],
    onRecordBeforeRequestPasswordResetRequest: ["onRecordRequestPasswordResetRequest", legacyBefore],
    onRecordAfterRequestPasswordResetRequest: ["onRecordRequestPasswordResetRequest", legacyAfter],
    onRecordBeforeConfirmPasswordResetRequest: ["onRecordConfirmPasswordResetRequest", legacyBefore],
    onRecordAfterConfirmPasswordResetRequest: ["onRecordConfirmPasswordResetRequest", legacyAfter],
    onRecordBeforeRequestVerificationRequest: ["onRecordRequestVerificationRequest", legacyBefore],
    onRecordAfterRequestVerificationRequest: ["onRecordRequestVerificationRequest", legacyAfter],
    onRecordBeforeConfirmVerificationRequest: ["onRecordConfirmVerificationRequest", legacyBefore],
    onRecordAfterConfirmVerificationRequest: ["onRecordConfirmVerificationRequest", legacyAfter],
    onRecordBeforeRequestEmailChangeRequest: ["onRecordRequestEmailChangeRequest", legacyBefore],
    onRecordAfterRequestEmailChangeRequest: ["onRecordRequestEmailChangeRequest", legacyAfter],
    onRecordBeforeConfirmEmailChangeRequest: ["onRecordConfirmEmailChangeRequest", legacyBefore],
    onRecordAfterConfirmEmailChangeRequest: ["onRecordConfirmEmailChangeRequest", legacyAfter],
    onCollectionBeforeCreateRequest: ["onCollectionCreateRequest", legacyBefore],
    onCollectionAfterCreateRequest: ["onCollectionCreateRequest", legacyAfter],
    onCollectionBeforeUpdateRequest: ["onCollectionUpdateRequest", legacyBefore],
    onCollectionAfterUpdateRequest: ["onCollectionUpdateRequest", legacyAfter],
    onCollectionBeforeDeleteRequest: ["onCollectionDeleteRequest", legacyBefore],
    onCollectionAfterDeleteRequest: ["onCollectionDeleteRequest", legacyAfter],
    onSettingsBeforeUpdateRequest: ["onSettingsUpdateRequest", legacyBefore],
    onSettingsAfterUpdateRequest: ["onSettingsUpdateRequest", legacyAfter],
    onMailerBeforeRecordResetPasswordSend: ["onMailerRecordPasswordResetSend", legacyBefore],
    onMailerAfterRecordResetPasswordSend: ["onMailerRecordPasswordResetSend", legacyAfter],
    onMailerBeforeRecordVerificationSend: ["onMailerRecordVerificationSend", legacyBefore],
    onMailerAfterRecordVerificationSend: ["onMailerRecordVerificationSend", legacyAfter],
    onMailerBeforeRecordChangeEmailSend: ["onMailerRecordEmailChangeSend", legacyBefore],
    onMailerAfterRecordChangeEmailSend: ["onMailerRecordEmailChangeSend", legacyAfter],
    onRealtimeBeforeMessageSend: ["onRealtimeMessageSend", legacyBefore],
    onRealtimeBeforeSubscribeRequest: ["onRealtimeSubscribeRequest", legacyBefore],
    onRealtimeAfterSubscribeRequest: ["onRealtimeSubscribeRequest", legacyAfter],
    onFileBeforeTokenRequest: ["onFileTokenRequest", legacyBefore],
    onFileAfterTokenRequest: ["onFileTokenRequest", legacyAfter],
};

let legacyIndex = 30;
for (const name of Object.keys(legacyHooks)) {
    const [target, wrap] = legacyHooks[name];
    const i = legacyIndex++;
    hooks[name] = function (handler, ...tags) {
        warnLegacy(i, name, target);
        hooks[target](wrap(checkFn(handler, name)), ...tags);
    };
}

const dao = {
    saveRecord(r) { return $app.save(r); },
    deleteRecord(r) { return $app.delete(r); },
    findRecordById(c, id) { return $app.findRecordById(c, id); },
    findRecordsByIds(c, ids) { return $app.findRecordsByIds(c, ids); },
    findRecordsByFilter(...a) { return $app.findRecordsByFilter(...a); },
    findFirstRecordByFilter(...a) { return $app.findFirstRecordByFilter(...a); },
    findFirstRecordByData(...a) { return $app.findFirstRecordByData(...a); },
    findRecordsByExpr(c, ...exprs) { return $app.findAllRecords(c, ...exprs); },
    findAuthRecordByEmail(c, email) { return $app.findAuthRecordByEmail(c, email); },
    findAuthRecordByUsername(c, username) {
        return $app.findFirstRecordByFilter(c, "username = {:u}", {u: String(username)});
    },
    findCollectionByNameOrId(n) { return $app.findCollectionByNameOrId(n); },
    runInTransaction(fn) { return $app.runInTransaction(() => fn(dao)); },
    db() { return db; },
    saveCollection(c) { return saveCollection(c); },
    deleteCollection(c) { return deleteCollection(c); },
    importCollections(list, deleteMissing) { return $app.importCollections(list, deleteMissing); },
};

/* ---- $apis, $http, $security, $os, $filepath ------------------------------------- */

const $apis = namespace("$apis", {
    requireAuth(...collections) { return builtinMiddleware("requireAuth", collections.map(String)); },
    requireSuperuserAuth() { return builtinMiddleware("requireSuperuserAuth", []); },
    requireSuperuserOrOwnerAuth(param) {
        return builtinMiddleware("requireSuperuserOrOwnerAuth", [String(param || "id")]);
    },
    requireAdminAuth() {
        warnLegacy(26, "$apis.requireAdminAuth()", "$apis.requireSuperuserAuth()");
        return builtinMiddleware("requireSuperuserAuth", []);
    },
    requireRecordAuth(...collections) {
        warnLegacy(27, "$apis.requireRecordAuth()", "$apis.requireAuth()");
        return builtinMiddleware("requireAuth", collections.map(String));
    },
    requireGuestOnly() {
        return new Middleware((e) => {
            if (e.auth)
                throw new BadRequestError("The request can be accessed only by guests.");
            e.next();
        });
    },
    bodyLimit(bytes) { return builtinMiddleware("bodyLimit", [String(bytes)]); },
    gzip() { return builtinMiddleware("gzip", []); },
    requestInfo(c) {
        warnLegacy(28, "$apis.requestInfo(c)", "e.requestInfo()");
        const info = c.requestInfo();
        return {data: info.body, query: info.query, headers: info.headers,
                method: info.method, authRecord: info.auth,
                admin: c.hasSuperuserAuth() ? info.auth : null};
    },
}, ["static", "skipSuccessActivityLog", "recordAuthResponse", "enrichRecord",
    "enrichRecords", "activityLogger"]);
Object.assign($apis, {ApiError, BadRequestError, NotFoundError, ForbiddenError,
                      UnauthorizedError, TooManyRequestsError, InternalServerError});

const $http = {
    send(config) {
        const c = Object.assign({method: "GET", body: "", headers: {}, timeout: 120}, config || {});
        let body = c.body;
        if (c.data !== undefined && !body) {
            body = JSON.stringify(c.data);
            c.headers = Object.assign({"content-type": "application/json"}, c.headers);
        }
        if (body && typeof body !== "string")
            throw new Error("$http.send: only string bodies are supported in Basalt yet");
        const r = N.httpSend(String(c.url), String(c.method).toUpperCase(), body || "",
                             c.headers || {}, Number(c.timeout) || 120);
        let json = null;
        try {
            json = r.body ? JSON.parse(r.body) : null;
        } catch (err) {
            json = null;
        }
        const bytes = Array.from(new TextEncoderLite().encode(r.body));
        return {statusCode: r.statusCode, headers: r.headers, cookies: {},
                body: bytes, raw: r.body, json};
    },
};

/* UTF-8 bytes of a string (JavaScriptCore's bare context has no
 * TextEncoder). */
class TextEncoderLite {
    encode(s) {
        const out = [];
        for (const ch of String(s)) {
            let c = ch.codePointAt(0);
            if (c < 0x80) out.push(c);
            else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
            else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
            else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
        }
        return out;
    }
}

function utf8Decode(bytes) {
    let s = "";
    for (let i = 0; i < bytes.length;) {
        const b = bytes[i++] & 255;
        let c = b;
        if (b >= 0xf0) c = ((b & 7) << 18) | ((bytes[i++] & 63) << 12) | ((bytes[i++] & 63) << 6) | (bytes[i++] & 63);
        else if (b >= 0xe0) c = ((b & 15) << 12) | ((bytes[i++] & 63) << 6) | (bytes[i++] & 63);
        else if (b >= 0xc0) c = ((b & 31) << 6) | (bytes[i++] & 63);
        s += String.fromCodePoint(c);
    }
    return s;
}

function b64urlJSON(v) { return N.b64url(JSON.stringify(v)); }

const $security = namespace("$security", {
    randomString(n) { return N.randomString(Number(n) || 0, ""); },
    randomStringWithAlphabet(n, alphabet) { return N.randomString(Number(n) || 0, String(alphabet)); },
    pseudorandomString(n) { return N.randomString(Number(n) || 0, ""); },
    pseudorandomStringWithAlphabet(n, alphabet) { return N.randomString(Number(n) || 0, String(alphabet)); },
    md5(s) { return N.hash("md5", String(s)); },
    sha256(s) { return N.hash("sha256", String(s)); },
    sha512(s) { return N.hash("sha512", String(s)); },
    hs256(s, secret) { return N.hmac("sha256", String(s), String(secret)); },
    hs512(s, secret) { return N.hmac("sha512", String(s), String(secret)); },
    equal(a, b) { return N.equal(String(a), String(b)); },
    createJWT(payload, key, seconds) {
        const claims = Object.assign({}, payload);
        if (Number(seconds) > 0)
            claims.exp = Math.floor(Date.now() / 1000) + Number(seconds);
        const head = b64urlJSON({alg: "HS256", typ: "JWT"}) + "." + b64urlJSON(claims);
        return head + "." + N.hmacB64url(head, String(key));
    },
    parseUnverifiedJWT(token) {
        const parts = String(token).split(".");
        if (parts.length !== 3)
            throw new Error("invalid JWT");
        return JSON.parse(N.unb64url(parts[1]));
    },
    parseJWT(token, key) {
        const parts = String(token).split(".");
        if (parts.length !== 3)
            throw new Error("invalid JWT");
        const head = JSON.parse(N.unb64url(parts[0]));
        if (head.alg !== "HS256" ||
            !N.equal(N.hmacB64url(parts[0] + "." + parts[1], String(key)), parts[2]))
            throw new Error("invalid JWT signature");
        const claims = JSON.parse(N.unb64url(parts[1]));
        if (claims.exp !== undefined && Number(claims.exp) < Date.now() / 1000)
            throw new Error("token is expired");
        return claims;
    },
}, ["randomStringByRegex", "encrypt", "decrypt"]);

/* Bytes for the natives: a Uint8Array of a string's UTF-8 or of an
 * array of numbers. */
function bytesOf(data) {
    if (data instanceof Uint8Array)
        return data;
    if (typeof data === "string")
        return new Uint8Array(new TextEncoderLite().encode(data));
    if (Array.isArray(data) || ArrayBuffer.isView(data))
        return Uint8Array.from(data, (b) => Number(b) & 255);
    return new Uint8Array(new TextEncoderLite().encode(toStringValue(data)));
}

/* A file's information as Go's fs.FileInfo (methods, not fields). */
function fileInfo(raw) {
    const modTime = new DateTime(raw.modTime);
    return {
        name: () => raw.name, size: () => raw.size, isDir: () => raw.isDir,
        mode: () => raw.mode | (raw.isDir ? 0x80000000 : 0) | (raw.isLink ? 0x8000000 : 0),
        modTime: () => modTime, sys: () => null,
    };
}

/* A directory entry as Go's fs.DirEntry. */
function dirEntry(raw) {
    const info = fileInfo(raw);
    return {name: () => raw.name, isDir: () => raw.isDir, type: () => info.mode() & 0xfffff000 | 0,
            info: () => info};
}

const $os = namespace("$os", {
    getenv(name) { return N.getenv(String(name)); },
    args: [],
    readFile(path) { return Array.from(N.osReadFile(String(path))); },
    writeFile(path, data, perm) { N.osWriteFile(String(path), bytesOf(data), perm === undefined ? 0o644 : Number(perm)); },
    readDir(path) { return N.osReadDir(String(path)).map(dirEntry); },
    stat(path) { return fileInfo(N.osStat(String(path), false)); },
    lstat(path) { return fileInfo(N.osStat(String(path), true)); },
    mkdir(path, perm) { N.osMkdir(String(path), perm === undefined ? 0o755 : Number(perm), false); },
    mkdirAll(path, perm) { N.osMkdir(String(path), perm === undefined ? 0o755 : Number(perm), true); },
    remove(path) { N.osRemove(String(path), false); },
    removeAll(path) { N.osRemove(String(path), true); },
    rename(from, to) { N.osRename(String(from), String(to)); },
    truncate(path, size) { N.osTruncate(String(path), Number(size) || 0); },
    getwd() { return N.osGetwd(); },
    tempDir() { return N.getenv("TMPDIR") || "/tmp"; },
}, ["exec", "cmd", "exit", "dirFS", "openRoot", "openInRoot"]);

function cleanPath(p) {
    const abs = p.startsWith("/");
    const out = [];
    for (const part of p.split("/")) {
        if (part === "" || part === ".")
            continue;
        if (part === "..") {
            if (out.length && out[out.length - 1] !== "..")
                out.pop();
            else if (!abs)
                out.push("..");
        } else {
            out.push(part);
        }
    }
    const s = (abs ? "/" : "") + out.join("/");
    return s || (abs ? "/" : ".");
}

/* The value walk's callbacks return to skip a directory (or the rest
 * of one, for a file) or to stop the walk without an error. */
const skipDir = new Error("skip this directory");
const skipAll = new Error("skip everything and stop the walk");

const $filepath = namespace("$filepath", {
    skipDir, skipAll,
    base(p) {
        p = String(p).replace(/\/+$/, "");
        if (p === "")
            return String(arguments[0]).startsWith("/") ? "/" : ".";
        return p.slice(p.lastIndexOf("/") + 1);
    },
    dir(p) {
        p = String(p);
        const i = p.lastIndexOf("/");
        return cleanPath(i < 0 ? "." : p.slice(0, i + 1) || "/");
    },
    ext(p) {
        const b = String(p).slice(String(p).lastIndexOf("/") + 1);
        const i = b.lastIndexOf(".");
        return i < 0 ? "" : b.slice(i);
    },
    join(...parts) {
        const s = parts.map(String).filter((x) => x !== "").join("/");
        return s === "" ? "" : cleanPath(s);
    },
    clean(p) { return cleanPath(String(p)); },
    isAbs(p) { return String(p).startsWith("/"); },
    split(p) {
        p = String(p);
        const i = p.lastIndexOf("/");
        return [p.slice(0, i + 1), p.slice(i + 1)];
    },
    toSlash(p) { return String(p); },
    fromSlash(p) { return String(p); },
    glob(pattern) { return N.fpGlob(String(pattern)); },
    match(pattern, name) { return N.fpMatch(String(pattern), String(name)); },
    splitList(p) { return String(p) === "" ? [] : String(p).split(":"); },
    rel(basepath, targpath) { return relPath(String(basepath), String(targpath)); },
    walk(root, fn) { walkTree(String(root), fn, false); },
    walkDir(root, fn) { walkTree(String(root), fn, true); },
}, []);

/* Go's filepath.Rel: target relative to base, both cleaned; an error
 * when one is absolute and the other not, or when base climbs out of
 * what is known. */
function relPath(base, targ) {
    base = cleanPath(base);
    targ = cleanPath(targ);
    if (base === targ)
        return ".";
    if (base.startsWith("/") !== targ.startsWith("/"))
        throw new Error("Rel: can't make " + targ + " relative to " + base);
    const b = base === "." || base === "/" ? [] : base.replace(/^\//, "").split("/");
    const t = targ === "." || targ === "/" ? [] : targ.replace(/^\//, "").split("/");
    let i = 0;
    while (i < b.length && i < t.length && b[i] === t[i])
        i++;
    if (b.slice(i).includes(".."))
        throw new Error("Rel: can't make " + targ + " relative to " + base);
    const out = b.slice(i).map(() => "..").concat(t.slice(i));
    return out.length ? out.join("/") : ".";
}

/* Go's filepath.Walk (info: a FileInfo) and WalkDir (a DirEntry): root
 * first, then each directory's entries in name order; the callback gets
 * (path, info, err) and may return an error to stop, skipDir or
 * skipAll. */
function walkTree(root, fn, asEntry) {
    if (typeof fn !== "function")
        throw new Error("walk expects a callback");
    /* What the callback's answer means: "skip", "stop" or "" (go on). */
    const outcome = (r) => {
        if (r === skipDir)
            return "skip";
        if (r === skipAll)
            return "stop";
        if (r)
            throw r;
        return "";
    };
    const visit = (path, raw, err) => {
        const v = raw ? (asEntry ? dirEntry(raw) : fileInfo(raw)) : null;
        const r = fn(path, v, err);
        if (r === skipDir && raw && !raw.isDir)
            return "skipParent";
        const o = outcome(r);
        if (o || !raw || !raw.isDir)
            return o;
        let entries;
        try {
            entries = N.osReadDir(path);
        } catch (e) {
            return outcome(fn(path, v, e));
        }
        for (const ent of entries) {
            const res = visit(cleanPath(path + "/" + ent.name), ent, null);
            if (res === "stop")
                return "stop";
            if (res === "skipParent")
                break;
        }
        return "";
    };
    let raw = null, err = null;
    try {
        raw = N.osStat(root, true);
    } catch (e) {
        err = e;
    }
    visit(root, raw, err);
}

/* ---- $mails ---------------------------------------------------------------- */

/* The auth record of a $mails call: PocketBase passes (app, record, ...);
 * a record first is accepted too. */
function mailArgs(name, args) {
    const a = args[0] instanceof Record ? args : args.slice(1);
    const rec = a[0];
    if (!(rec instanceof Record))
        throw new Error("$mails." + name + " expects an auth record");
    if (!rec.collection().isAuth())
        throw new Error("$mails." + name + ": " + rec.collection().name + " is not an auth collection");
    return a;
}

const $mails = {
    sendRecordPasswordReset(...args) {
        const [rec] = mailArgs("sendRecordPasswordReset", args);
        N.sendRecordMail("passwordReset", rec.__h);
    },
    sendRecordVerification(...args) {
        const [rec] = mailArgs("sendRecordVerification", args);
        N.sendRecordMail("verification", rec.__h);
    },
    sendRecordChangeEmail(...args) {
        const [rec, newEmail] = mailArgs("sendRecordChangeEmail", args);
        N.sendRecordMail("emailChange", rec.__h, String(newEmail || ""));
    },
    sendRecordOTP(...args) {
        const [rec, otpId, pass] = mailArgs("sendRecordOTP", args);
        N.sendRecordMail("otp", rec.__h, String(otpId || ""), String(pass || ""));
    },
    sendRecordAuthAlert(...args) {
        const [rec, info] = mailArgs("sendRecordAuthAlert", args);
        N.sendRecordMail("authAlert", rec.__h, info === undefined ? null : String(info));
    },
};

/* ---- helpers ---------------------------------------------------------------- */

class DynamicModel {
    constructor(shape) { Object.assign(this, shape || {}); }
}

function arrayOf(model) {
    const a = [];
    hidden(a, "__model", model);
    return a;
}

function toStringValue(v, maxBytes) {
    let s;
    if (typeof v === "string")
        s = v;
    else if (Array.isArray(v) || ArrayBuffer.isView(v))
        s = utf8Decode(Array.from(v));
    else if (v === null || v === undefined)
        s = "";
    else
        s = stringify(v);
    return maxBytes > 0 && s.length > maxBytes ? s.slice(0, maxBytes) : s;
}

function sleep(ms) { N.sleep(Number(ms) || 0); }

class MailerMessage {
    constructor(data) {
        Object.assign(this, {from: {}, to: [], bcc: [], cc: [], subject: "",
                             html: "", text: "", headers: {}}, data || {});
    }
}

/* ---- the globals ---------------------------------------------------------------- */

const globals = {
    $app, $apis, $http, $security, $os, $filepath, $dbx,
    Record, Collection, FieldsList, DynamicModel, DateTime, Middleware,
    ValidationError, MailerMessage,
    ApiError, BadRequestError, NotFoundError, ForbiddenError,
    UnauthorizedError, TooManyRequestsError, InternalServerError,
    routerAdd, routerUse, cronAdd, cronRemove,
    $mails, arrayOf, sleep, toString: toStringValue,
    nullString: () => new NullValue("string"), nullInt: () => new NullValue("number"),
    nullFloat: () => new NullValue("number"), nullBool: () => new NullValue("boolean"),
    nullArray: () => new NullValue("array"), nullObject: () => new NullValue("object"),
    toBytes(v) { return typeof v === "string" ? new TextEncoderLite().encode(v) : Array.from(v || []); },
    readerToString(v) { return toStringValue(v); },
    setTimeout, setInterval, clearTimeout, clearInterval: clearTimeout,
    queueMicrotask, console,
    Field: class { constructor(data) { Object.assign(this, data || {}); } },
    SchemaField: class { constructor(data) { Object.assign(this, data || {}); } },
    Dao: function Dao() { return dao; },
    unmarshal, migrate,
};
for (const name of Object.keys(fieldTypes))
    globals[name] = fieldClass(fieldTypes[name]);
Object.assign(globals, hooks);

const unsupportedGlobals = [
    "$template", "$filesystem", "FormData", "Context", "Command",
    "RequestInfo", "Timezone", "Cookie", "SubscriptionMessage",
    "AppleClientSecretCreateForm", "RecordUpsertForm", "TestEmailSendForm",
    "TestS3FilesystemForm", "process", "Buffer",
    "onModelValidate", "onModelCreate",
    "onModelCreateExecute", "onModelAfterCreateSuccess",
    "onModelAfterCreateError", "onModelUpdate", "onModelUpdateExecute",
    "onModelAfterUpdateSuccess", "onModelAfterUpdateError", "onModelDelete",
    "onModelDeleteExecute", "onModelAfterDeleteSuccess",
    "onModelAfterDeleteError",
];
const unsupportedNamespaces = {
    $template: ["loadFiles", "loadString", "loadFS"],
    $filesystem: ["s3", "local", "fileFromPath", "fileFromBytes",
                  "fileFromMultipart", "fileFromURL"],
};
for (const name of unsupportedGlobals) {
    if (unsupportedNamespaces[name])
        globals[name] = namespace(name, {}, unsupportedNamespaces[name]);
    else
        globals[name] = unsupported(name);
}

/* ---- pb_data/types.d.ts ----------------------------------------------------------
 * The declarations written for editors (src/js/types.c calls
 * bs.typesDts). They are generated from the surface above, so they name
 * exactly what a context defines: every global of `globals`, every member
 * of the namespaces and of the classes' prototypes (getters become
 * properties), and each registrar with the event its hook carries (the
 * C table of src/js/loader.c, passed in as hookKinds). `signatures`
 * gives the precise types of the names used most; any other member is
 * declared loosely. The class types live in `namespace basalt`: several
 * of their names (Record, Request, Event) are taken by TypeScript's own
 * libraries. */

const eventTypes = ["Event", "RecordEvent", "CollectionEvent", "RequestEvent",
    "RecordRequestEvent", "RecordAuthRequestEvent", "MailerEvent",
    "RealtimeEvent", "FileEvent", null, "BackupEvent"];

const typeClasses = {Event, RecordEvent, CollectionEvent, RequestEvent,
    RecordRequestEvent, RecordAuthRequestEvent, MailerEvent, RealtimeEvent,
    FileEvent, BackupEvent, Request, Schema};

const R = "basalt.Record", C = "basalt.Collection", OBJ = "{[key: string]: any}";
const HANDLER = "(e: basalt.RequestEvent) => any";
const MW = "basalt.Middleware | (" + HANDLER + ")";

const signatures = {
    "routerAdd": "(method: string, path: string, handler: " + HANDLER + ", ...middlewares: Array<" + MW + ">): void",
    "routerUse": "(...middlewares: Array<" + MW + ">): void",
    "cronAdd": "(id: string, expr: string, handler: () => any): void",
    "cronRemove": "(id: string): void",
    "sleep": "(ms: number): void",
    "toString": "(value: any, maxBytes?: number): string",
    "toBytes": "(value: any): number[]",
    "readerToString": "(value: any, maxBytes?: number): string",
    "arrayOf": "<T>(model: T): T[]",
    "unmarshal": "<T>(data: any, dst: T): T",
    "migrate": "(up: (app: basalt.App) => any, down?: (app: basalt.App) => any): void",
    "require": "(path: string): any",
    "setTimeout": "(callback: (...args: any[]) => void, ms?: number, ...args: any[]): number",
    "setInterval": "(callback: (...args: any[]) => void, ms?: number, ...args: any[]): number",
    "clearTimeout": "(id?: number): void",
    "clearInterval": "(id?: number): void",
    "queueMicrotask": "(callback: () => void): void",
    "new Record": "(collection: " + C + " | string, data?: " + OBJ + ")",
    "new Collection": "(data?: " + OBJ + ")",
    "new DateTime": "(value?: string | number | basalt.DateTime)",
    "new Middleware": "(fn: " + HANDLER + ", priority?: number, id?: string)",
    "new MailerMessage": "(data?: " + OBJ + ")",
    "new ApiError": "(status: number, message?: string, data?: any)",
    "new ValidationError": "(code: string, message: string)",
    "Record#id": "string",
    "Record#get": "(field: string): any",
    "Record#set": "(field: string, value: any): void",
    "Record#load": "(data: " + OBJ + "): void",
    "Record#getString": "(field: string): string",
    "Record#getInt": "(field: string): number",
    "Record#getFloat": "(field: string): number",
    "Record#getBool": "(field: string): boolean",
    "Record#getDateTime": "(field: string): basalt.DateTime",
    "Record#getStringSlice": "(field: string): string[]",
    "Record#collection": "(): " + C,
    "Record#tableName": "(): string",
    "Record#isNew": "(): boolean",
    "Record#original": "(): " + R,
    "Record#fresh": "(): " + R,
    "Record#clone": "(): " + R,
    "Record#email": "(): string",
    "Record#setEmail": "(email: string): void",
    "Record#verified": "(): boolean",
    "Record#setVerified": "(verified: boolean): void",
    "Record#setPassword": "(password: string): void",
    "Record#setRandomPassword": "(): string",
    "Record#validatePassword": "(password: string): boolean",
    "Record#isSuperuser": "(): boolean",
    "Record#expandedOne": "(relation: string): " + R + " | null",
    "Record#expandedAll": "(relation: string): " + R + "[]",
    "Record#publicExport": "(): " + OBJ,
    "Record#toJSON": "(): " + OBJ,
    "Collection#isAuth": "(): boolean",
    "Collection#isBase": "(): boolean",
    "Collection#isView": "(): boolean",
    "Event#app": "basalt.App",
    "Event#next": "(): void",
    "RecordEvent#record": R,
    "CollectionEvent#collection": C,
    "RequestEvent#request": "basalt.Request",
    "RequestEvent#auth": R + " | null",
    "RequestEvent#json": "(status: number, data: any): void",
    "RequestEvent#string": "(status: number, text: string): void",
    "RequestEvent#html": "(status: number, html: string): void",
    "RequestEvent#xml": "(status: number, xml: string): void",
    "RequestEvent#blob": "(status: number, contentType: string, bytes: any): void",
    "RequestEvent#noContent": "(status?: number): void",
    "RequestEvent#redirect": "(status: number, url: string): void",
    "RequestEvent#requestInfo": "(): {body: " + OBJ + ", query: " + OBJ + ", headers: " + OBJ +
        ", auth: " + R + " | null, method: string, context: string}",
    "RequestEvent#bindBody": "<T>(dst: T): T",
    "RequestEvent#get": "(key: string): any",
    "RequestEvent#set": "(key: string, value: any): void",
    "RequestEvent#hasSuperuserAuth": "(): boolean",
    "RequestEvent#remoteIP": "(): string",
    "RequestEvent#realIP": "(): string",
    "RequestEvent#badRequestError": "(message?: string, data?: any): basalt.ApiError",
    "RequestEvent#notFoundError": "(message?: string, data?: any): basalt.ApiError",
    "RequestEvent#forbiddenError": "(message?: string, data?: any): basalt.ApiError",
    "RequestEvent#unauthorizedError": "(message?: string, data?: any): basalt.ApiError",
    "RecordRequestEvent#record": R + " | null",
    "RecordRequestEvent#collection": C + " | null",
    "Request#method": "string",
    "Request#url": "{path: string, rawQuery: string, query(): {get(key: string): string, has(key: string): boolean}, string(): string}",
    "Request#header": "{get(name: string): string}",
    "Request#host": "string",
    "Request#remoteAddr": "string",
    "Request#pathValue": "(name: string): string",
    "$app.save": "(model: " + R + " | " + C + "): void",
    "$app.saveNoValidate": "(model: " + R + " | " + C + "): void",
    "$app.delete": "(model: " + R + " | " + C + "): void",
    "$app.findRecordById": "(collection: " + C + " | string, id: string): " + R,
    "$app.findRecordsByIds": "(collection: " + C + " | string, ids: string[]): " + R + "[]",
    "$app.findRecordsByFilter": "(collection: " + C + " | string, filter: string, sort?: string, limit?: number, offset?: number, ...params: " + OBJ + "[]): " + R + "[]",
    "$app.findFirstRecordByFilter": "(collection: " + C + " | string, filter: string, ...params: " + OBJ + "[]): " + R,
    "$app.findFirstRecordByData": "(collection: " + C + " | string, key: string, value: any): " + R,
    "$app.findAuthRecordByEmail": "(collection: " + C + " | string, email: string): " + R,
    "$app.findCollectionByNameOrId": "(nameOrId: string): " + C,
    "$app.findAllCollections": "(...types: string[]): " + C + "[]",
    "$app.countRecords": "(collection: " + C + " | string, ...exprs: any[]): number",
    "$app.runInTransaction": "(fn: (txApp: basalt.App) => void): void",
    "$app.isTransactional": "(): boolean",
    "$http.send": "(config: {url: string, method?: string, body?: string, headers?: {[name: string]: string}, timeout?: number}): " +
        "{statusCode: number, headers: {[name: string]: string[]}, body: any, raw: string, json: any}",
    "$security.randomString": "(length: number): string",
    "$security.randomStringWithAlphabet": "(length: number, alphabet: string): string",
    "$security.md5": "(text: string): string",
    "$security.sha256": "(text: string): string",
    "$security.sha512": "(text: string): string",
    "$security.hs256": "(text: string, secret: string): string",
    "$security.hs512": "(text: string, secret: string): string",
    "$security.equal": "(a: string, b: string): boolean",
    "$security.createJWT": "(payload: " + OBJ + ", signingKey: string, secDuration: number): string",
    "$security.parseJWT": "(token: string, verificationKey: string): " + OBJ,
    "$security.parseUnverifiedJWT": "(token: string): " + OBJ,
    "$os.getenv": "(name: string): string",
    "$os.args": "string[]",
    "$filepath.base": "(path: string): string",
    "$filepath.dir": "(path: string): string",
    "$filepath.ext": "(path: string): string",
    "$filepath.join": "(...parts: string[]): string",
    "$os.readFile": "(path: string): number[]",
    "$os.writeFile": "(path: string, data: string | number[], perm?: number): void",
    "$os.mkdirAll": "(path: string, perm?: number): void",
    "$os.removeAll": "(path: string): void",
    "$filepath.glob": "(pattern: string): string[]",
    "$filepath.match": "(pattern: string, name: string): boolean",
    "$filepath.rel": "(basepath: string, targpath: string): string",
    "$mails.sendRecordPasswordReset": "(app: basalt.App, record: " + R + "): void",
    "$mails.sendRecordVerification": "(app: basalt.App, record: " + R + "): void",
    "$mails.sendRecordChangeEmail": "(app: basalt.App, record: " + R + ", newEmail: string): void",
    "$mails.sendRecordOTP": "(app: basalt.App, record: " + R + ", otpId: string, password: string): void",
    "$mails.sendRecordAuthAlert": "(app: basalt.App, record: " + R + ", info?: string): void",
    "$apis.requireAuth": "(...collections: string[]): basalt.Middleware",
    "$apis.requireSuperuserAuth": "(): basalt.Middleware",
    "$apis.requireSuperuserOrOwnerAuth": "(ownerIdParam?: string): basalt.Middleware",
    "$apis.requireGuestOnly": "(): basalt.Middleware",
    "$apis.bodyLimit": "(bytes: number): basalt.Middleware",
    "$apis.gzip": "(): basalt.Middleware",
    "console.log": "(...args: any[]): void",
    "console.info": "(...args: any[]): void",
    "console.debug": "(...args: any[]): void",
    "console.warn": "(...args: any[]): void",
    "console.error": "(...args: any[]): void",
};

/* The namespaces whose type gets a name, so others can refer to it. */
const namedNamespaces = {$app: "App"};

function isClass(v) {
    return typeof v === "function" && /^class\b/.test(Function.prototype.toString.call(v));
}

function isUnsupported(v) {
    return typeof v === "function" && (v.__unsupported === true || (!isClass(v) &&
        Function.prototype.toString.call(v).includes("is not supported in Basalt yet")));
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/* One member line: `name(args): ret;` or `name: type;`. */
function memberLine(key, name, value, kind) {
    const sig = signatures[key];
    const note = isUnsupported(value) ? "    /** Not supported in Basalt yet: throws. */\n" : "";
    const prop = IDENT.test(name) ? name : JSON.stringify(name);
    if (!sig && typeof value === "function" && isClass(value) && globals[name] === value)
        return "    " + prop + ": typeof " + name + ";\n";
    if (sig)
        return note + "    " + prop + (sig[0] === "(" || sig[0] === "<" ? "" : ": ") + sig + ";\n";
    if (kind === "method" || typeof value === "function")
        return note + "    " + prop + "(...args: any[]): any;\n";
    return "    " + (kind === "readonly" ? "readonly " : "") + prop + ": any;\n";
}

/* The members of an object (a namespace such as $app). */
function objectType(path, obj) {
    let out = "{\n";
    for (const k of Object.keys(obj).sort())
        out += memberLine(path + "." + k, k, obj[k]);
    return out + "}";
}

/* An interface from a class: its prototype's own members (getters as
 * properties), extending the parent class when that is one of ours. */
function classInterface(name, cls, known) {
    const parent = Object.getPrototypeOf(cls);
    let head = "interface " + name;
    let parentName = null;
    for (const k of Object.keys(known))
        if (known[k] === parent)
            parentName = k;
    if (parentName)
        head += " extends " + parentName;
    else if (parent === Array)
        head += " extends Array<any>";
    else if (parent === Error || (parent && parent.prototype instanceof Error))
        head += " extends Error";
    let out = "    " + head + " {\n";
    const proto = cls.prototype;
    for (const k of Object.getOwnPropertyNames(proto).sort()) {
        if (k === "constructor" || k.startsWith("__"))
            continue;
        const d = Object.getOwnPropertyDescriptor(proto, k);
        let line;
        if (d.get)
            line = memberLine(name + "#" + k, k, undefined, d.set ? "prop" : "readonly");
        else
            line = memberLine(name + "#" + k, k, d.value, "method");
        out += line.replace(/^ {4}/gm, "        ");
    }
    /* Data-bag classes keep whatever their constructor copied in. */
    if (!(cls === Record || name.endsWith("Event") || cls === Request))
        out += "        [key: string]: any;\n";
    return out + "    }\n";
}

bs.typesDts = function (hookKinds, version) {
    let out = "// Basalt " + version + ": declarations of the pb_hooks and pb_migrations globals, for editors.\n" +
        "// Generated at start-up from the bindings; do not edit. Use it with\n" +
        "// /// <reference path=\"../pb_data/types.d.ts\" />\n\n";
    const classes = Object.assign({}, typeClasses);
    for (const name of Object.keys(globals))
        if (isClass(globals[name]))
            classes[name] = globals[name];
    /* The types of the namespace basalt. */
    out += "declare namespace basalt {\n";
    for (const name of Object.keys(classes).sort())
        out += classInterface(name, classes[name], classes);
    out += "    interface Middleware {\n        fn: (" + HANDLER + ") | null;\n        priority: number;\n        id: string;\n    }\n";
    for (const ns of Object.keys(namedNamespaces))
        out += "    type " + namedNamespaces[ns] + " = " +
            objectType(ns, globals[ns]).replace(/\n/g, "\n    ") + ";\n";
    out += "}\n\n";
    /* The globals, in name order. */
    const legacy = {};
    for (const name of Object.keys(legacyHooks))
        legacy[name] = legacyHooks[name][0];
    const names = Object.keys(globals).concat(["require", "__hooks"]).sort();
    for (const name of names) {
        const v = name === "require" ? function () {} : name === "__hooks" ? "" : globals[name];
        const target = legacy[name] || name;
        if (hookKinds[target] !== undefined) {
            const ev = eventTypes[hookKinds[target]] || "Event";
            if (legacy[name])
                out += "/** @deprecated the pre-0.23 name of " + target + ". */\n";
            out += "declare function " + name + "(handler: (e: basalt." + ev +
                ") => any, ...tags: string[]): void;\n";
        } else if (name === "FormData") {
            /* Not supported, and declared by the DOM library that
             * editors load by default: a second declaration would
             * clash with it. */
            continue;
        } else if (isUnsupported(v)) {
            out += "/** Not supported in Basalt yet: throws. */\ndeclare function " + name + "(...args: any[]): any;\n";
        } else if (isClass(v)) {
            const sig = signatures["new " + name] || "(...args: any[])";
            out += "declare var " + name + ": {new " + sig + ": basalt." + name +
                "; prototype: basalt." + name + "};\n";
        } else if (typeof v === "function" && v.name === "Dao") {
            out += "/** @deprecated the pre-0.23 data access object; use $app. */\n" +
                "declare function Dao(db?: any): basalt.App;\n";
        } else if (typeof v === "function") {
            const sig = signatures[name] || "(...args: any[]): any";
            out += "declare function " + name + sig + ";\n";
        } else if (name === "console") {
            /* An interface Console merges with the DOM library's, and
             * the variable then has the same type in both. */
            out += "interface Console " + objectType(name, v) + "\ndeclare var console: Console;\n";
        } else if (namedNamespaces[name]) {
            out += "declare var " + name + ": basalt." + namedNamespaces[name] + ";\n";
        } else if (v && typeof v === "object") {
            out += "declare var " + name + ": " + objectType(name, v) + ";\n";
        } else {
            out += "declare var " + name + ": " + (typeof v === "string" ? "string" : "any") + ";\n";
        }
    }
    return out;
};

for (const name of Object.keys(globals)) {
    Object.defineProperty(global, name, {value: globals[name], writable: true,
                                         configurable: true, enumerable: false});
}
})(this);
