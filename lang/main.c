/* lang/main.c -- the tl executable's entry point (placeholder until the CLI lands). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)) {
        printf("tl %s\n", TL_VERSION);
        return 0;
    }
    fprintf(stderr, "usage: tl run FILE.tl\n(the language core is not built yet)\n");
    return 1;
}
