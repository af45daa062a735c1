build/src/core/password.o: src/core/password.c src/core/password.h \
 src/core/../base/util.h include/basalt.h
src/core/password.h:
src/core/../base/util.h:
include/basalt.h:
