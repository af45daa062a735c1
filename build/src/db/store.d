build/src/db/store.o: src/db/store.c src/db/store.h include/basalt.h \
 src/db/../base/util.h
src/db/store.h:
include/basalt.h:
src/db/../base/util.h:
