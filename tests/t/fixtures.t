#!/bin/sh
# Our own fixtures (tests/fixtures/*.eml): what the corpus lacks (MDNs,
# challenge-response, RFC 6533 global reports, CR-only and CRLF bounces,
# base64 and quoted-printable originals, folded and bare ids) and ham
# look-alikes that must never be bounces.  Golden file: expected.tsv.
. "$(dirname "$0")/../lib.sh"
cd "$FIX" || exit 1
scratch
"$BACKSTOP" scan -r rules.yaml *.eml | cut -f1-4 > "$T/got"
ok $? "scan of the fixtures exits 0"
grep -v '^#' expected.tsv > "$T/want"
while IFS='	' read -r f verdict kind id; do
	got=$(grep "^$f	" "$T/got")
	is "$got" "$f	$verdict	$kind	$id" "$f: $verdict $kind $id"
done < "$T/want"
# the counterparts (scan's 6th column) that a fixture was written for
while IFS='	' read -r f want; do
	got=$("$BACKSTOP" scan -r rules.yaml "$f" | cut -f6)
	is "$got" "$want" "$f: counterparts $want"
done <<'EOF'
dsn-two-reports.eml	alice@one.example,carol@three.example,bob@two.example
arf-jmrp-pre-arf.eml	jack@hotmail.example
arf-mixed-feedback-part.eml	hank@isp.example,subscribers@example.org
arf-text-plain-fields.eml	ivy@mailbox.example
arf-scomp-pre-arf.eml	redacted@aol.example
ndr-prose-addresses.eml	mike.fox@partner.example
ndr-address-prefixes.eml	carl.diaz@partner.example,dora.eng@partner.example,erik.fox@partner.example
ndr-notes-delivery-failure.eml	hans.meier@notes.partner.example
ndr-exchange-non-remis.eml	lucie.martin@partenaire.example
ndr-non-delivery-encoded.eml	jana.kral@partner.example
EOF
is "$(wc -l < "$T/got")" "$(wc -l < "$T/want")" "every fixture is in expected.tsv"
# ham look-alikes: never a bounce, whatever the patterns
for f in ham-*.eml; do
	v=$("$BACKSTOP" scan -r rules.yaml "$f" | cut -f2)
	is "$v" not-bounce "$f is not a bounce"
done
done_testing
