/// <reference path="../pb_data/types.d.ts" />
migrate((app) => {
  const collection = app.findCollectionByNameOrId("pbc_1740000002")

  // update collection data
  unmarshal({
    "updateRule": "@request.auth.id != \"\"",
    "indexes": [
      "CREATE INDEX `idx_books_title` ON `books` (`title`)"
    ]
  }, collection)

  // add field
  collection.fields.addAt(4, new Field({
    "hidden": false,
    "id": "select2063623452",
    "maxSelect": 1,
    "name": "status",
    "presentable": false,
    "required": false,
    "system": false,
    "type": "select",
    "values": [
      "draft",
      "published"
    ]
  }))

  // remove field
  collection.fields.removeById("number1169138922")

  return app.save(collection)
}, (app) => {
  const collection = app.findCollectionByNameOrId("pbc_1740000002")

  unmarshal({
    "updateRule": null,
    "indexes": []
  }, collection)

  collection.fields.addAt(3, new Field({
    "hidden": false,
    "id": "number1169138922",
    "max": null,
    "min": 0,
    "name": "pages",
    "onlyInt": true,
    "presentable": false,
    "required": false,
    "system": false,
    "type": "number"
  }))

  collection.fields.removeById("select2063623452")

  return app.save(collection)
})
