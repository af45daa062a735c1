build/src/base/util.o: src/base/util.c src/base/util.h include/basalt.h
src/base/util.h:
include/basalt.h:
