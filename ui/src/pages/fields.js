// The field types a collection can hold, with the options each one has
// (PocketBase's field shapes). An option is [key, kind, label]; kinds:
// number (0 = no limit), nnumber (empty = null), text, bool, list
// (comma-separated into an array), collection (a collection id).

export const FIELD_TYPES = {
  text: [['min', 'number', 'Min length'], ['max', 'number', 'Max length'], ['pattern', 'text', 'Pattern (regex)'], ['autogeneratePattern', 'text', 'Autogenerate pattern']],
  editor: [['maxSize', 'number', 'Max size (bytes)'], ['convertURLs', 'bool', 'Convert URLs to relative']],
  number: [['min', 'nnumber', 'Min'], ['max', 'nnumber', 'Max'], ['onlyInt', 'bool', 'Integers only']],
  bool: [],
  email: [['exceptDomains', 'list', 'Except domains'], ['onlyDomains', 'list', 'Only domains']],
  url: [['exceptDomains', 'list', 'Except domains'], ['onlyDomains', 'list', 'Only domains']],
  date: [['min', 'text', 'Min date (YYYY-MM-DD HH:MM:SS.000Z)'], ['max', 'text', 'Max date']],
  autodate: [['onCreate', 'bool', 'Set on create'], ['onUpdate', 'bool', 'Set on update']],
  select: [['values', 'list', 'Choices (comma-separated)'], ['maxSelect', 'number', 'Max selected']],
  file: [['maxSelect', 'number', 'Max files'], ['maxSize', 'number', 'Max size per file (bytes)'], ['mimeTypes', 'list', 'Allowed MIME types'], ['thumbs', 'list', 'Thumb sizes (e.g. 100x100)'], ['protected', 'bool', 'Protected (needs a file token)']],
  relation: [['collectionId', 'collection', 'Related collection'], ['minSelect', 'number', 'Min selected'], ['maxSelect', 'number', 'Max selected'], ['cascadeDelete', 'bool', 'Delete with the related record']],
  json: [['maxSize', 'number', 'Max size (bytes)']],
  geoPoint: [],
  password: [['min', 'number', 'Min length'], ['max', 'number', 'Max length'], ['pattern', 'text', 'Pattern (regex)'], ['cost', 'number', 'bcrypt cost']],
};

export const TYPE_NAMES = Object.keys(FIELD_TYPES);

export function newField(type, collections) {
  const f = { name: '', type, required: false, hidden: false, presentable: false, system: false };
  if (type === 'select') Object.assign(f, { values: [], maxSelect: 1 });
  if (type === 'file') Object.assign(f, { maxSelect: 1, maxSize: 0, mimeTypes: [], thumbs: [], protected: false });
  if (type === 'relation') Object.assign(f, { collectionId: collections.find((c) => !c.system)?.id || collections[0]?.id || '', maxSelect: 1, minSelect: 0, cascadeDelete: false });
  if (type === 'autodate') Object.assign(f, { onCreate: true, onUpdate: false });
  if (type === 'number') Object.assign(f, { min: null, max: null, onlyInt: false });
  return f;
}

// True when a field holds several values (select, file, relation).
export const isMulti = (f) => ['select', 'file', 'relation'].includes(f.type) && (f.maxSelect || 1) > 1;
