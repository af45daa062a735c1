/// <reference path="../pb_data/types.d.ts" />
migrate((app) => {
  const collection = new Collection({
    "type": "auth",
    "name": "members",
    "listRule": "id = @request.auth.id",
    "viewRule": "id = @request.auth.id",
    "createRule": "",
    "updateRule": "id = @request.auth.id",
    "deleteRule": null,
    "fields": [
      {
        "name": "nickname",
        "type": "text",
        "max": 40
      }
    ],
    "passwordAuth": {
      "enabled": true,
      "identityFields": ["email"]
    },
    "authToken": {
      "duration": 86400
    }
  })

  return app.save(collection)
}, (app) => {
  const collection = app.findCollectionByNameOrId("members")

  return app.delete(collection)
})
