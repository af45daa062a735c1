build/src/core/settings.o: src/core/settings.c src/core/settings.h \
 src/core/../db/store.h include/basalt.h src/core/../base/error.h \
 src/core/../base/buf.h src/core/../base/json.h src/core/../base/json.h \
 src/core/../base/util.h
src/core/settings.h:
src/core/../db/store.h:
include/basalt.h:
src/core/../base/error.h:
src/core/../base/buf.h:
src/core/../base/json.h:
src/core/../base/json.h:
src/core/../base/util.h:
