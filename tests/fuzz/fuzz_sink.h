/* tests/fuzz/fuzz_sink.h -- where the harnesses send the output they do not check:
** an unlinked temporary file (tmpfile()), emptied before each input, so that no
** test writes to a system path such as /dev/null and a long run does not fill
** the disk. */
#ifndef TL_TESTS_FUZZ_SINK_H
#define TL_TESTS_FUZZ_SINK_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The sink (created on first use). */
static inline FILE *fuzz_sink(void) {
    static FILE *sink;
    if (!sink && !(sink = tmpfile())) abort();
    return sink;
}

/* Points the process's stdout (fd 1) at the sink. */
static inline void fuzz_sink_stdout(void) {
    fflush(stdout);
    if (dup2(fileno(fuzz_sink()), STDOUT_FILENO) < 0) abort();
}

/* Empties the sink (stdout included when it points there). */
static inline void fuzz_sink_reset(void) {
    fflush(stdout);
    fflush(fuzz_sink());
    if (ftruncate(fileno(fuzz_sink()), 0) == 0) rewind(fuzz_sink());
}

#endif
