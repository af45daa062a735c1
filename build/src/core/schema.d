build/src/core/schema.o: src/core/schema.c src/core/schema.h \
 src/core/../db/store.h include/basalt.h src/core/../base/json.h \
 src/core/../base/buf.h src/core/../base/util.h
src/core/schema.h:
src/core/../db/store.h:
include/basalt.h:
src/core/../base/json.h:
src/core/../base/buf.h:
src/core/../base/util.h:
