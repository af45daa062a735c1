build/src/core/migrate.o: src/core/migrate.c src/core/migrate.h \
 include/basalt.h src/core/../base/json.h src/core/../base/buf.h \
 src/core/../base/util.h src/core/app.h src/core/../db/store.h \
 src/core/../http/router.h src/core/../http/request.h \
 src/core/../http/../base/arena.h src/core/../http/../base/buf.h \
 src/core/../http/server.h src/core/../http/router.h \
 src/core/../http/static.h src/core/schema.h src/core/settings.h \
 src/core/collection.h src/core/../base/buf.h
src/core/migrate.h:
include/basalt.h:
src/core/../base/json.h:
src/core/../base/buf.h:
src/core/../base/util.h:
src/core/app.h:
src/core/../db/store.h:
src/core/../http/router.h:
src/core/../http/request.h:
src/core/../http/../base/arena.h:
src/core/../http/../base/buf.h:
src/core/../http/server.h:
src/core/../http/router.h:
src/core/../http/static.h:
src/core/schema.h:
src/core/settings.h:
src/core/collection.h:
src/core/../base/buf.h:
