build/src/core/collection.o: src/core/collection.c src/core/collection.h \
 src/core/../base/buf.h src/core/../db/store.h include/basalt.h \
 src/core/../base/error.h src/core/../base/buf.h src/core/../base/json.h \
 src/core/../base/json.h src/core/../base/util.h src/core/../db/sql.h \
 src/core/../db/../base/buf.h
src/core/collection.h:
src/core/../base/buf.h:
src/core/../db/store.h:
include/basalt.h:
src/core/../base/error.h:
src/core/../base/buf.h:
src/core/../base/json.h:
src/core/../base/json.h:
src/core/../base/util.h:
src/core/../db/sql.h:
src/core/../db/../base/buf.h:
