build/src/core/superuser.o: src/core/superuser.c src/core/superuser.h \
 include/basalt.h src/core/../base/util.h src/core/app.h \
 src/core/../db/store.h src/core/../http/router.h \
 src/core/../http/request.h src/core/../http/../base/arena.h \
 src/core/../http/../base/buf.h src/core/../http/server.h \
 src/core/../http/router.h src/core/../http/static.h src/core/schema.h \
 src/core/settings.h src/core/password.h
src/core/superuser.h:
include/basalt.h:
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
src/core/password.h:
