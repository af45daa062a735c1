build/src/api/routes.o: src/api/routes.c src/api/../core/auth.h \
 src/api/../core/../http/request.h \
 src/api/../core/../http/../base/arena.h \
 src/api/../core/../http/../base/buf.h include/basalt.h \
 src/api/../core/schema.h src/api/../core/../db/store.h \
 src/api/../http/cors.h src/api/../http/request.h src/api/api.h \
 src/api/../core/app.h src/api/../core/../http/router.h \
 src/api/../core/../http/request.h src/api/../core/../http/server.h \
 src/api/../core/../http/router.h src/api/../core/../http/static.h \
 src/api/../core/settings.h
src/api/../core/auth.h:
src/api/../core/../http/request.h:
src/api/../core/../http/../base/arena.h:
src/api/../core/../http/../base/buf.h:
include/basalt.h:
src/api/../core/schema.h:
src/api/../core/../db/store.h:
src/api/../http/cors.h:
src/api/../http/request.h:
src/api/api.h:
src/api/../core/app.h:
src/api/../core/../http/router.h:
src/api/../core/../http/request.h:
src/api/../core/../http/server.h:
src/api/../core/../http/router.h:
src/api/../core/../http/static.h:
src/api/../core/settings.h:
