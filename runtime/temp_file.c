/* runtime/temp_file.c -- see runtime/temp_file.h. */
#include "runtime/temp_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LIVE 16
static char *volatile live[MAX_LIVE];
static unsigned counter;

static void live_add(char *p) {
    for (int i = 0; i < MAX_LIVE; i++)
        if (__sync_bool_compare_and_swap(&live[i], NULL, p)) return;
}

void tl_temp_forget(const char *p) {
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] == p) __sync_bool_compare_and_swap(&live[i], (char *)p, NULL);
}

void tl_temp_remove_all(void) {
    for (int i = 0; i < MAX_LIVE; i++) {
        char *p = live[i];
        if (p) unlink(p);
    }
}

int tl_temp_create(const char *target, char **path, int *fd) {
    *path = NULL;
    *fd = -1;
    const char *slash = strrchr(target, '/');
    size_t dir_len = slash ? (size_t)(slash - target) + 1 : 0;
    const char *base = target + dir_len;
    size_t cap = strlen(target) + 64;
    char *p = malloc(cap);
    if (!p) return ENOMEM;
    /* The name is registered before the file exists, so a signal between the
    ** open() and the registration cannot leave it behind (the handler may run
    ** in any thread); unlinking a name not created yet is harmless. */
    int f = -1, err = 0;
    for (int attempt = 0; attempt < 100 && f < 0; attempt++) {
        snprintf(p, cap, "%.*s.%s.tmp-%ld-%u", (int)dir_len, target, base, (long)getpid(),
                 __sync_fetch_and_add(&counter, 1));
        live_add(p);
        f = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        err = f < 0 ? errno : 0;
        if (f < 0) tl_temp_forget(p);
        if (f < 0 && err != EEXIST) break;
    }
    if (f < 0) {
        free(p);
        return err ? err : EEXIST;
    }
    *path = p;
    *fd = f;
    return 0;
}
