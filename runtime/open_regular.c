/* runtime/open_regular.c -- see runtime/open_regular.h. */
#include "runtime/open_regular.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int tl_open_regular(const char *path, struct stat *sb) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return -1;
    if (fstat(fd, sb) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    if (!S_ISREG(sb->st_mode)) {
        close(fd);
        errno = 0;
        return -1;
    }
    return fd;
}
