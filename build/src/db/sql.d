build/src/db/sql.o: src/db/sql.c src/db/sql.h src/db/../base/buf.h
src/db/sql.h:
src/db/../base/buf.h:
