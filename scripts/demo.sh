#!/bin/sh
# make demo: deliver an ordinary message, a real bounce of our own message
# and a forged one (backscatter) into ./demo-maildir, as ~/.forward would,
# and show where each went and why.
set -eu
cd "$(dirname "$0")/.."
B=${BACKSTOP:-./backstop}
D=demo-maildir
rm -rf "$D"
mkdir -p "$D"
R=$D/rules.yaml
cat > "$R" <<'YAML'
# The demo user's rules: mail leaves through mail.example.org, whose
# Postfix writes Message-IDs like <20261101093000.4F1A2B3C@mail.example.org>.
outbound:
  message_id:
    - '^<[0-9]{14}\.[0-9A-F]+@mail\.example\.org>$'
YAML
chmod 600 "$R"
export BACKSTOP_SYSTEM_RULES=

for m in ham-plain.eml dsn-ours.eml dsn-forged.eml ndr-quoted-copy.eml; do
	f=tests/fixtures/$m
	$B deliver -d "$D/Maildir" -r "$R" < "$f"
	echo "== $m: exit $?"
	$B explain -r "$R" "$f" | grep -E '^(kind|original Message-ID|verdict|deliver would)'
done
echo
echo "== what is where now:"
for dir in "$D/Maildir/new" "$D/Maildir/.Junk/new"; do
	for f in "$dir"/*; do
		[ -f "$f" ] || continue
		printf '%-22s %s\n' "${dir#$D/}" \
		    "$(grep -m1 '^X-Backstop:' "$f" || echo '(ordinary mail, untouched)')"
	done
done
