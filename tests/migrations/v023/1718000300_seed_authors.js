/// <reference path="../pb_data/types.d.ts" />
migrate((app) => {
  const authors = app.findCollectionByNameOrId("authors")

  for (const name of ["Ursula", "Italo"]) {
    const record = new Record(authors)
    record.set("name", name)
    app.save(record)
  }

  const books = app.findCollectionByNameOrId("books")
  books.fields.add(new TextField({
    name: "isbn",
    max: 20,
  }))
  books.listRule = "status = 'published'"
  app.save(books)

  app.db().newQuery("CREATE INDEX IF NOT EXISTS idx_books_isbn ON books (isbn)").execute()
}, (app) => {
  app.db().newQuery("DROP INDEX IF EXISTS idx_books_isbn").execute()

  const books = app.findCollectionByNameOrId("books")
  books.fields.removeByName("isbn")
  books.listRule = ""
  app.save(books)

  app.db().newQuery("DELETE FROM authors WHERE name IN ('Ursula', 'Italo')").execute()
})
