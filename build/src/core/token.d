build/src/core/token.o: src/core/token.c src/core/token.h \
 src/core/../base/buf.h src/core/../base/json.h src/core/../base/buf.h \
 src/core/../base/util.h include/basalt.h
src/core/token.h:
src/core/../base/buf.h:
src/core/../base/json.h:
src/core/../base/buf.h:
src/core/../base/util.h:
include/basalt.h:
