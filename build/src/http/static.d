build/src/http/static.o: src/http/static.c src/http/static.h \
 src/http/request.h src/http/../base/arena.h src/http/../base/buf.h \
 include/basalt.h
src/http/static.h:
src/http/request.h:
src/http/../base/arena.h:
src/http/../base/buf.h:
include/basalt.h:
