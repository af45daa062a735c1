build/src/cli/main.o: src/cli/main.c src/cli/../core/app.h \
 src/cli/../core/../db/store.h include/basalt.h \
 src/cli/../core/../http/router.h src/cli/../core/../http/request.h \
 src/cli/../core/../http/../base/arena.h \
 src/cli/../core/../http/../base/buf.h src/cli/../core/../http/server.h \
 src/cli/../core/../http/router.h src/cli/../core/../http/static.h \
 src/cli/../core/schema.h src/cli/../core/settings.h \
 src/cli/../core/superuser.h
src/cli/../core/app.h:
src/cli/../core/../db/store.h:
include/basalt.h:
src/cli/../core/../http/router.h:
src/cli/../core/../http/request.h:
src/cli/../core/../http/../base/arena.h:
src/cli/../core/../http/../base/buf.h:
src/cli/../core/../http/server.h:
src/cli/../core/../http/router.h:
src/cli/../core/../http/static.h:
src/cli/../core/schema.h:
src/cli/../core/settings.h:
src/cli/../core/superuser.h:
