#!/bin/sh
# Build libetpan's parsers (the MIME and RFC 5322 code classify() uses)
# from Debian's source package with coverage and ASan, for
#   FUZZ_LIBETPAN=$OUT/libetpan-fuzz.a fuzz/run.sh
# Debian's libetpan.a is not instrumented: without this, libFuzzer sees no
# edge inside the parser and ASan only what crosses its interceptors.
#
#   fuzz/build-libetpan.sh [OUTDIR]      default /tmp/backstop-libetpan
#
# Uses apt-get with private lists (deb-src is not needed in sources.list).
set -eu
OUT=${1:-/tmp/backstop-libetpan}
VER=$(dpkg-query -W -f='${Version}' libetpan-dev 2>/dev/null || echo)
mkdir -p "$OUT/apt/lists/partial" "$OUT/src" "$OUT/obj"
LIST=$OUT/apt/src.list
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
	"http://deb.debian.org/debian bookworm main" > "$LIST"
O="-o Dir::Etc::SourceList=$LIST -o Dir::Etc::SourceParts=/dev/null
   -o Dir::State::Lists=$OUT/apt/lists"
# shellcheck disable=SC2086
apt-get -q $O update > /dev/null
cd "$OUT/src"
# shellcheck disable=SC2086
apt-get -q $O source --download-only "libetpan${VER:+=$VER}" > /dev/null ||
	true	# the .debian.tar may be gone from the mirror: the orig is enough
tar xf libetpan_*.orig.tar.* 
cd libetpan-*/
[ -f config.h ] || CC=clang ./configure --disable-shared --without-openssl \
	--without-gnutls --without-sasl --disable-db --disable-threads \
	--without-curl --without-expat --disable-iconv > "$OUT/configure.log"
# configure links the public headers into include/libetpan/
for f in src/data-types/base64.c src/data-types/carray.c \
    src/data-types/charconv.c src/data-types/chash.c src/data-types/clist.c \
    src/data-types/mmapstring.c src/data-types/timeutils.c \
    src/data-types/md5.c src/low-level/imf/*.c src/low-level/mime/*.c; do
	clang -g -O1 -fno-omit-frame-pointer \
	    -fsanitize=fuzzer-no-link,address,undefined \
	    -fno-sanitize-recover=undefined -DHAVE_CONFIG_H -I. -Iinclude \
	    -Iinclude/libetpan -Isrc/data-types -Isrc/low-level/imf \
	    -Isrc/low-level/mime -c "$f" -o "$OUT/obj/$(basename "$f" .c).o"
done
rm -f "$OUT/libetpan-fuzz.a"
ar rcs "$OUT/libetpan-fuzz.a" "$OUT"/obj/*.o
echo "$OUT/libetpan-fuzz.a"
