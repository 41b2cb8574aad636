/* app/main.c -- the tl executable: everything happens in app/cli.c. */
#include "app/commands.h"

int main(int argc, char **argv) {
    return tl_cli_main(argc, argv);
}
