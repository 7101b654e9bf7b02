# TAP helpers the command-line tests share (sourced, not run): a scratch
# directory $tmp, counters, and checks that print "ok N - ..." lines.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; fi; }
# expect STATUS DESCRIPTION CMD...: run CMD (output to $tmp/out and $tmp/err),
# check its exit status
expect() {
	want=$1 desc=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"; got=$?
	if [ "$got" = "$want" ]; then ok "$desc"; else
		not_ok "$desc (exit $got, wanted $want)"; sed 's/^/# /' "$tmp/err"; fi
}
# expect_err TEXT DESCRIPTION: the last command's stderr is exactly TEXT
expect_err() {
	if [ "$(cat "$tmp/err")" = "$1" ]; then ok "$2"; else
		not_ok "$2"; echo "# wanted: $1"; sed 's/^/# got:    /' "$tmp/err"; fi
}
# has TEXT FILE: FILE holds the line fragment TEXT (fixed string)
has() { grep -qF -- "$1" "$2" || { echo "# '$1' not in $(basename "$2"):"; sed 's/^/#   /' "$2" | head -40; false; }; }
