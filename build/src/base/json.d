build/src/base/json.o: src/base/json.c src/base/json.h src/base/buf.h \
 include/basalt.h
src/base/json.h:
src/base/buf.h:
include/basalt.h:
