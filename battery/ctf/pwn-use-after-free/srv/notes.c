/* Airlock original challenge (Apache-2.0): a use after free (CWE-416). One session per
   connection: commands `new TEXT`, `delete`, `edit TEXT`, `login NAME`, `flag`, `quit`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct note { char text[24]; long spare; };
struct user { char name[24]; long administrator; };

int main(void) {
    struct note *note = NULL;
    struct user *user = NULL;
    char line[256];
    setvbuf(stdout, NULL, _IONBF, 0);
    puts("notes> commands: new TEXT | delete | edit TEXT | login NAME | flag | quit");
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "new ", 4) == 0) {
            note = calloc(1, sizeof *note);
            strncpy(note->text, line + 4, sizeof note->text - 1);
            puts("note saved");
        } else if (strcmp(line, "delete") == 0 && note) {
            free(note); /* The weakness: the pointer stays, and edit still uses it. */
            puts("note deleted");
        } else if (strncmp(line, "edit ", 5) == 0 && note) {
            memcpy(note, line + 5, strlen(line + 5));
            puts("note edited");
        } else if (strncmp(line, "login ", 6) == 0) {
            user = malloc(sizeof *user);
            strncpy(user->name, line + 6, sizeof user->name - 1);
            user->name[sizeof user->name - 1] = 0;
            user->administrator = 0;
            printf("hello %s\n", user->name);
        } else if (strcmp(line, "flag") == 0) {
            if (user && user->administrator) {
                FILE *file = fopen("/srv/flag.txt", "r");
                char flag[128] = {0};
                if (file && fgets(flag, sizeof flag, file)) printf("administrator flag: %s", flag);
                if (file) fclose(file);
            } else {
                puts("administrators only");
            }
        } else if (strcmp(line, "quit") == 0) {
            break;
        } else {
            puts("?");
        }
    }
    return 0;
}
