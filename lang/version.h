/* lang/version.h -- the tl version string. */
#ifndef TL_LANG_VERSION_H
#define TL_LANG_VERSION_H
const char *tl_version(void);
#endif
