build/gen/defaults.o: build/gen/defaults.c
