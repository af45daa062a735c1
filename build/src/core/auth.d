build/src/core/auth.o: src/core/auth.c src/core/auth.h \
 src/core/../http/request.h src/core/../http/../base/arena.h \
 src/core/../http/../base/buf.h include/basalt.h src/core/schema.h \
 src/core/../db/store.h src/core/../base/json.h src/core/../base/buf.h \
 src/core/../db/sql.h src/core/../db/../base/buf.h src/core/app.h \
 src/core/../http/router.h src/core/../http/request.h \
 src/core/../http/server.h src/core/../http/router.h \
 src/core/../http/static.h src/core/settings.h src/core/token.h \
 src/core/../base/buf.h
src/core/auth.h:
src/core/../http/request.h:
src/core/../http/../base/arena.h:
src/core/../http/../base/buf.h:
include/basalt.h:
src/core/schema.h:
src/core/../db/store.h:
src/core/../base/json.h:
src/core/../base/buf.h:
src/core/../db/sql.h:
src/core/../db/../base/buf.h:
src/core/app.h:
src/core/../http/router.h:
src/core/../http/request.h:
src/core/../http/server.h:
src/core/../http/router.h:
src/core/../http/static.h:
src/core/settings.h:
src/core/token.h:
src/core/../base/buf.h:
