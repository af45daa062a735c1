build/src/http/server.o: src/http/server.c src/http/server.h \
 src/http/router.h src/http/request.h src/http/../base/arena.h \
 src/http/../base/buf.h include/basalt.h src/http/../base/util.h
src/http/server.h:
src/http/router.h:
src/http/request.h:
src/http/../base/arena.h:
src/http/../base/buf.h:
include/basalt.h:
src/http/../base/util.h:
