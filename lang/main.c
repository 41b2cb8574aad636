/* lang/main.c -- the tl executable: everything happens in lang/cli.c. */
#include "lang/commands.h"

int main(int argc, char **argv) {
    return tl_cli_main(argc, argv);
}
