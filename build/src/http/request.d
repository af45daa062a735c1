build/src/http/request.o: src/http/request.c src/http/request.h \
 src/http/../base/arena.h src/http/../base/buf.h include/basalt.h \
 src/http/../base/error.h src/http/../base/buf.h src/http/../base/json.h \
 src/http/../base/json.h
src/http/request.h:
src/http/../base/arena.h:
src/http/../base/buf.h:
include/basalt.h:
src/http/../base/error.h:
src/http/../base/buf.h:
src/http/../base/json.h:
src/http/../base/json.h:
