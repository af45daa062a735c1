/// <reference path="../pb_data/types.d.ts" />
// Written in the pre-0.23 style (Dao, schema with options).
migrate((db) => {
  const collection = new Collection({
    "id": "notes00000000a1",
    "created": "2024-01-10 10:00:00.000Z",
    "updated": "2024-01-10 10:00:00.000Z",
    "name": "notes",
    "type": "base",
    "system": false,
    "schema": [
      {
        "system": false,
        "id": "nbody001",
        "name": "body",
        "type": "text",
        "required": true,
        "presentable": false,
        "unique": false,
        "options": {
          "min": null,
          "max": 2000,
          "pattern": ""
        }
      }
    ],
    "indexes": [],
    "listRule": "",
    "viewRule": "",
    "createRule": null,
    "updateRule": null,
    "deleteRule": null,
    "options": {}
  });

  return Dao(db).saveCollection(collection);
}, (db) => {
  const dao = new Dao(db);
  const collection = dao.findCollectionByNameOrId("notes00000000a1");

  return dao.deleteCollection(collection);
})
