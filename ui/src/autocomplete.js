// Suggestions for the filter and API-rule editors: the collection's
// fields (through relations, two levels deep), @request.*, @collection.*,
// the :modifiers and the date macros. The word being typed is the run of
// identifier characters, dots, @ and : before the caret.

const MACROS = ['@now', '@second', '@minute', '@hour', '@weekday', '@day', '@month', '@year',
  '@today', '@yesterday', '@tomorrow', '@todayStart', '@todayEnd', '@monthStart', '@monthEnd',
  '@yearStart', '@yearEnd'];
const MODIFIERS = [':isset', ':changed', ':length', ':each', ':lower'];
const MAX = 30;

function fieldPaths(col, all, prefix, depth, out) {
  for (const f of col?.fields || []) {
    const name = prefix + f.name;
    out.push(name);
    if (f.type === 'relation' && depth > 0) {
      const target = all.find((c) => c.id === f.collectionId);
      if (target) fieldPaths(target, all, name + '.', depth - 1, out);
    }
  }
  return out;
}

// All words that can start at a caret position, for collection col.
// rules: include @request.*, @collection.* and modifiers (API rules);
// without it only fields and macros (the records filter).
export function vocabulary(col, all, rules) {
  const words = fieldPaths(col, all, '', 2, []);
  for (const f of col?.fields || []) {
    if (f.type === 'relation' || f.type === 'file' || f.type === 'select') words.push(`${f.name}:length`);
    if (f.type === 'relation' || f.type === 'select') words.push(`${f.name}:each`);
    if (f.type === 'text' || f.type === 'email') words.push(`${f.name}:lower`);
  }
  words.push(...MACROS);
  if (rules) {
    const authCols = all.filter((c) => c.type === 'auth');
    const authFields = new Set(['id', 'collectionId', 'collectionName']);
    for (const c of authCols) for (const f of c.fields) if (f.type !== 'password') authFields.add(f.name);
    for (const n of authFields) words.push(`@request.auth.${n}`);
    for (const f of col?.fields || []) {
      words.push(`@request.body.${f.name}`, `@request.body.${f.name}:isset`, `@request.body.${f.name}:changed`);
    }
    words.push('@request.method', '@request.context', '@request.query.', '@request.headers.');
    for (const c of all) {
      for (const f of c.fields || []) words.push(`@collection.${c.name}.${f.name}`);
    }
    for (const m of MODIFIERS) words.push(m);
  }
  return words;
}

// The word before caret in text: {start, word}.
export function wordAt(text, caret) {
  let s = caret;
  while (s > 0 && /[\w.@:]/.test(text[s - 1])) s--;
  return { start: s, word: text.slice(s, caret) };
}

export function suggest(vocab, word) {
  if (!word) return [];
  const w = word.toLowerCase();
  const starts = [];
  const contains = [];
  for (const v of vocab) {
    const l = v.toLowerCase();
    if (l === w) continue;
    if (l.startsWith(w)) starts.push(v);
    else if (w.length > 1 && l.includes(w)) contains.push(v);
  }
  return [...new Set([...starts, ...contains])].slice(0, MAX);
}
