# TAP helpers for backstop's shell tests, run by prove.
# Source it: . "$(dirname "$0")/../lib.sh"   (from tests/t/)
# BACKSTOP is the binary under test (the Makefile sets it; the ASan build
# runs the same scripts with BACKSTOP pointing at build-asan/backstop).

TOP=$(cd "$(dirname "$0")/.." && pwd)
case $TOP in */tests) TOP=${TOP%/tests} ;; esac
BACKSTOP=${BACKSTOP:-$TOP/backstop}
FIX=$TOP/tests/fixtures
CORPUS=${BACKSTOP_CORPUS:-$TOP/../shared/corpus}
export BACKSTOP_SYSTEM_RULES=	# tests never read /etc/backstop
_tap_n=0
_tap_fail=0

plan() { echo "1..$1"; }
ok() {	# ok COND-EXIT-STATUS DESCRIPTION
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $_tap_n - $2"
	else echo "not ok $_tap_n - $2"; _tap_fail=$((_tap_fail + 1)); fi
}
is() {	# is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then ok 0 "$3"
	else ok 1 "$3"; printf '#   got:  %s\n#   want: %s\n' "$1" "$2"; fi
}
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
diag() { printf '# %s\n' "$*"; }
done_testing() { echo "1..$_tap_n"; [ "$_tap_fail" -eq 0 ]; }

# A fresh scratch directory, removed at exit.
scratch() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/backstop-test.XXXXXX")
	trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
}

# scratch, and a user of the commands that read folders: HOME in it,
# UTC and the C locale (dates and names as the tests spell them), no log
# to stderr, and $T/empty.yaml, a rule file that says nothing.
scratch_home() {
	scratch
	export TZ=UTC LC_ALL=C
	unset BACKSTOP_LOG_STDERR
	export HOME="$T/home"
	mkdir -p "$HOME"
	: > "$T/empty.yaml"; chmod 600 "$T/empty.yaml"
}

# Write a rule file (mode 600, as backstop requires) from stdin.
rules() { cat > "$1"; chmod 600 "$1"; }

# The only file in a maildir folder's new/ (empty if none or several).
only_new() {
	set -- "$1"/new/*
	[ $# -eq 1 ] && [ -f "$1" ] && echo "$1"
}
