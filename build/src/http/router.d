build/src/http/router.o: src/http/router.c src/http/router.h \
 src/http/request.h src/http/../base/arena.h src/http/../base/buf.h \
 include/basalt.h
src/http/router.h:
src/http/request.h:
src/http/../base/arena.h:
src/http/../base/buf.h:
include/basalt.h:
