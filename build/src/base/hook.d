build/src/base/hook.o: src/base/hook.c src/base/hook.h include/basalt.h
src/base/hook.h:
include/basalt.h:
