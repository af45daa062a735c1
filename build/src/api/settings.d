build/src/api/settings.o: src/api/settings.c src/api/../base/json.h \
 src/api/../base/buf.h src/api/api.h src/api/../core/app.h \
 src/api/../core/../db/store.h include/basalt.h \
 src/api/../core/../http/router.h src/api/../core/../http/request.h \
 src/api/../core/../http/../base/arena.h \
 src/api/../core/../http/../base/buf.h src/api/../core/../http/server.h \
 src/api/../core/../http/router.h src/api/../core/../http/static.h \
 src/api/../core/schema.h src/api/../core/settings.h
src/api/../base/json.h:
src/api/../base/buf.h:
src/api/api.h:
src/api/../core/app.h:
src/api/../core/../db/store.h:
include/basalt.h:
src/api/../core/../http/router.h:
src/api/../core/../http/request.h:
src/api/../core/../http/../base/arena.h:
src/api/../core/../http/../base/buf.h:
src/api/../core/../http/server.h:
src/api/../core/../http/router.h:
src/api/../core/../http/static.h:
src/api/../core/schema.h:
src/api/../core/settings.h:
