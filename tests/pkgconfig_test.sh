#!/bin/sh
# Installs into a temporary prefix and builds a consumer with nothing but
# `pkg-config recnn`, once against the shared and once against the static
# library.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s install BUILD="${BUILD:-build}" PREFIX="$tmp/usr" >/dev/null
cat > "$tmp/consumer.c" <<'C'
#include <recnn.h>
#include <stdio.h>
int main(void)
{
    if (RECNN_CHECK_VERSION() != RECNN_OK) {
        fprintf(stderr, "%s\n", recnn_last_error());
        return 1;
    }
    recnn_model *m = NULL;
    int st = recnn_model_create(&m, "no-such-kind");
    if (st != RECNN_E_NOTFOUND || m != NULL) {
        fprintf(stderr, "unexpected status %d\n", st);
        return 1;
    }
    printf("librecnn %s ok\n", recnn_version());
    return 0;
}
C
export PKG_CONFIG_PATH="$tmp/usr/lib/pkgconfig"
cc -std=c11 $(pkg-config --cflags recnn) "$tmp/consumer.c" -o "$tmp/shared" \
    $(pkg-config --libs recnn)
LD_LIBRARY_PATH="$tmp/usr/lib" "$tmp/shared"
if readelf -d "$tmp/shared" | grep -q 'librecnn.so.0'; then :; else
    echo "pkgconfig test: shared consumer does not link librecnn.so.0"; exit 1; fi
cc -std=c11 -static-libgcc $(pkg-config --cflags recnn) "$tmp/consumer.c" -o "$tmp/static" \
    -Wl,-Bstatic $(pkg-config --libs-only-L recnn) -lrecnn -Wl,-Bdynamic \
    $(pkg-config --static --libs recnn | sed 's/-lrecnn//')
if readelf -d "$tmp/static" | grep -q 'librecnn'; then
    echo "pkgconfig test: static consumer still needs librecnn.so"; exit 1; fi
"$tmp/static"
# The README's example program must keep compiling against the installed library.
awk '/^```c$/{on=1; next} /^```$/{if (on) exit} on' README.md > "$tmp/readme.c"
cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags recnn) "$tmp/readme.c" -o "$tmp/readme" \
    $(pkg-config --libs recnn)
if [ -f ../shared/datasets/ml-100k/u.data ] && [ -n "${RECNN_README_RUN:-}" ]; then
    (cd ../shared/datasets && LD_LIBRARY_PATH="$tmp/usr/lib" "$tmp/readme")
fi
make -s uninstall BUILD="${BUILD:-build}" PREFIX="$tmp/usr" >/dev/null
if [ -e "$tmp/usr/include/recnn.h" ] || [ -e "$tmp/usr/lib/librecnn.a" ]; then
    echo "pkgconfig test: uninstall left files behind"; exit 1; fi
echo "pkgconfig test: shared and static consumers passed"
