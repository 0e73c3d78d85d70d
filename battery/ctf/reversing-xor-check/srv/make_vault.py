# Airlock original challenge (Apache-2.0): writes vault.c with this attempt's flag hidden in it
# (hard-coded secrets, CWE-798, lightly obfuscated by a one-byte XOR).
import os

flag = open("/srv/flag.txt").read().strip()
password = os.urandom(6).hex()
key = os.urandom(1)[0] | 0x80


def hidden(text):
    return ", ".join(str(b ^ key) for b in text.encode()) + ", " + str(key)


source = f"""
#include <stdio.h>
#include <string.h>
static const unsigned char password[] = {{ {hidden(password)} }};
static const unsigned char flag[] = {{ {hidden(flag)} }};
static void reveal(const unsigned char *data, size_t size, char *out) {{
    for (size_t i = 0; i + 1 < size; i++) out[i] = (char)(data[i] ^ {key});
    out[size - 1] = 0;
}}
int main(int argc, char **argv) {{
    char expected[64], secret[128];
    reveal(password, sizeof password, expected);
    if (argc < 2 || strcmp(argv[1], expected) != 0) {{ puts("access denied"); return 1; }}
    reveal(flag, sizeof flag, secret);
    puts(secret);
    return 0;
}}
"""
open("/srv/vault.c", "w").write(source)
