/* lang/version.c -- the tl version string (from CMake's project version). */
#include "lang/version.h"

const char *tl_version(void) { return TL_VERSION; }
