/* app/sha256.h -- SHA-256 (FIPS 180-4), incremental, for checking downloads.
**
** A small self-contained implementation (no OpenSSL): init, feed any number
** of byte runs with tl_sha256_update, then tl_sha256_final writes the 32-byte
** digest.  tl_sha256_hex formats a digest as 64 lowercase hex digits. */
#ifndef TL_APP_SHA256_H
#define TL_APP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define TL_SHA256_BYTES 32
#define TL_SHA256_HEX   65 /* 64 hex digits + NUL */

typedef struct tl_sha256 {
    uint32_t h[8];
    uint64_t nbytes; /* total bytes fed so far          */
    uint8_t buf[64]; /* the block being filled           */
    size_t nbuf;     /* bytes in buf (always < 64)      */
} tl_sha256;

void tl_sha256_init(tl_sha256 *s);
void tl_sha256_update(tl_sha256 *s, const void *data, size_t n);
void tl_sha256_final(tl_sha256 *s, uint8_t out[TL_SHA256_BYTES]);
/* The digest of one buffer. */
void tl_sha256_digest(const void *data, size_t n, uint8_t out[TL_SHA256_BYTES]);
void tl_sha256_hex(const uint8_t digest[TL_SHA256_BYTES], char out[TL_SHA256_HEX]);

#endif
