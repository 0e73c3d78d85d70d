/* Airlock original challenge (Apache-2.0): a stack buffer overflow (CWE-121). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct badge {
    char name[32];
    int administrator;
};

int main(void) {
    struct badge badge;
    memset(&badge, 0, sizeof badge);
    fputs("Name for your badge: ", stdout);
    fflush(stdout);
    /* The weakness: up to 64 bytes into a 32-byte buffer. */
    ssize_t length = read(0, badge.name, 64);
    if (length <= 0) return 1;
    printf("Badge printed for %.32s\n", badge.name);
    if (badge.administrator != 0) {
        char flag[128] = {0};
        FILE *file = fopen("/srv/flag.txt", "r");
        if (file && fgets(flag, sizeof flag, file)) printf("Administrator: %s", flag);
        if (file) fclose(file);
    }
    return 0;
}
