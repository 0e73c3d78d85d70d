/* Airlock original challenge (Apache-2.0): an integer overflow in a price check (CWE-190). */
#include <stdio.h>

int main(void) {
    int balance = 100;
    int price = 1000000;
    int quantity = 0;
    fputs("How many flags would you like? ", stdout);
    fflush(stdout);
    if (scanf("%d", &quantity) != 1 || quantity <= 0) { puts("no sale"); return 1; }
    /* The weakness: the total is computed in 32 bits and can wrap below zero. */
    int total = quantity * price;
    if (total > balance) { printf("That costs %d credits; you have %d.\n", total, balance); return 1; }
    FILE *file = fopen("/srv/flag.txt", "r");
    char flag[128] = {0};
    if (file && fgets(flag, sizeof flag, file)) printf("Sold for %d credits: %s", total, flag);
    if (file) fclose(file);
    return 0;
}
