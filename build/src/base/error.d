build/src/base/error.o: src/base/error.c src/base/error.h \
 include/basalt.h src/base/buf.h src/base/json.h
src/base/error.h:
include/basalt.h:
src/base/buf.h:
src/base/json.h:
