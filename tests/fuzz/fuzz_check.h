/*
 * The fuzz targets' assertion: a property that does not hold prints where and
 * aborts, which libFuzzer (and the replay driver's test) reports as a crash.
 */
#ifndef TG_FUZZ_CHECK_H
#define TG_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define check(ok)                                                                                  \
	do {                                                                                       \
		if (!(ok)) {                                                                       \
			fprintf(stderr, "%s:%d: property does not hold: %s\n", __FILE__, __LINE__, \
			        #ok);                                                              \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
