/* Airlock original challenge (Apache-2.0): a format string vulnerability (CWE-134). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
    char *secret = calloc(1, 128);
    FILE *file = fopen("/srv/flag.txt", "r");
    if (!file || !fgets(secret, 128, file)) return 1;
    fclose(file);
    char line[128] = {0};
    ssize_t length = read(0, line, sizeof line - 1);
    if (length <= 0) return 1;
    /* The weakness: the input is the format. */
    printf(line);
    printf("\n");
    free(secret);
    return 0;
}
