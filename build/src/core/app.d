build/src/core/app.o: src/core/app.c src/core/app.h \
 src/core/../db/store.h include/basalt.h src/core/../http/router.h \
 src/core/../http/request.h src/core/../http/../base/arena.h \
 src/core/../http/../base/buf.h src/core/../http/server.h \
 src/core/../http/router.h src/core/../http/static.h src/core/schema.h \
 src/core/settings.h src/core/../api/api.h src/core/../api/../core/app.h \
 src/core/../base/util.h src/core/../http/cors.h src/core/auth.h \
 src/core/../http/request.h src/core/migrate.h
src/core/app.h:
src/core/../db/store.h:
include/basalt.h:
src/core/../http/router.h:
src/core/../http/request.h:
src/core/../http/../base/arena.h:
src/core/../http/../base/buf.h:
src/core/../http/server.h:
src/core/../http/router.h:
src/core/../http/static.h:
src/core/schema.h:
src/core/settings.h:
src/core/../api/api.h:
src/core/../api/../core/app.h:
src/core/../base/util.h:
src/core/../http/cors.h:
src/core/auth.h:
src/core/../http/request.h:
src/core/migrate.h:
