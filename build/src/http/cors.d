build/src/http/cors.o: src/http/cors.c src/http/cors.h src/http/request.h \
 src/http/../base/arena.h src/http/../base/buf.h include/basalt.h
src/http/cors.h:
src/http/request.h:
src/http/../base/arena.h:
src/http/../base/buf.h:
include/basalt.h:
