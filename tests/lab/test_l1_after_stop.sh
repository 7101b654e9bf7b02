#!/bin/bash
# The lab's choice of what a fresh L1 runs after one stopped (l1_after_stop in
# lib-host.sh), replayed on sequences of L1 deaths without booting anything:
# the scenario that was running goes last, one that was running when
# L1_STRIKES L1s stopped (3 here) is dropped for good unless it is resumable,
# and a resumable one is never dropped. TAP.
: "${top_srcdir:=.}"
. "$top_srcdir/tests/cli/tap.sh"
. "$top_srcdir/tests/lab/lib-host.sh"

here=$tmp/lab
out=$tmp/out
mkdir -p "$here/scenarios" "$out"
for s in a b c d e; do echo "# timeout: 10" >"$here/scenarios/$s.sh"; done
printf '# resumable\n# timeout: 10\n' >"$here/scenarios/e.sh"
finished() { for s in "$@"; do mkdir -p "$out/$s" && echo 0 >"$out/$s/rc"; done; }
# stop HUNG WANT: an L1 stopped in HUNG; the next L1 must run WANT
stop() {
	l1_after_stop "$1" a b c d e >"$tmp/said"
	if [ "$l1_left" = "$2" ]; then ok "after a stop in ${1:-(between scenarios)}: next L1 runs '$2'"; else
		not_ok "after a stop in ${1:-(between scenarios)}: next L1 runs '$l1_left', wanted '$2'"; fi
}

L1_STRIKES=3
l1_struck='' l1_dropped=''
finished a
stop b "c d e b"
check "the one without a result is the one that hung" [ "$l1_hung" = b ]
finished c
stop d "b e d"
stop e "b d e"
finished b
stop d "e d"
check "nothing is dropped after two stops in one" [ -z "$l1_dropped" ]
stop d "e"
check "d, stopped in three times, is dropped" [ "$l1_dropped" = " d" ]
check "the drop is said" grep -q "d was running when 3 L1s stopped" "$tmp/said"
# The sequence that once lost a resumable scenario: e struck again right
# after d was dropped must still run, and d must not come back.
stop e "e"
stop e "e"
stop e "e"
check "a resumable scenario is never dropped" [ "$l1_dropped" = " d" ]
stop "" "e"

L1_STRIKES=1
l1_struck='' l1_dropped=''
rm -rf "${out:?}"/*
stop a "b c d e"
check "L1_STRIKES=1 drops at the first stop" [ "$l1_dropped" = " a" ]
unset L1_STRIKES
l1_struck='' l1_dropped=''
for i in 1 2 3 4; do stop a "b c d e a"; done
check "by default, four stops in one do not drop it" [ -z "$l1_dropped" ]
stop a "b c d e"
check "by default, the fifth does" [ "$l1_dropped" = " a" ]

l1_struck='' l1_dropped=''
rm -rf "${out:?}"/*
finished a b c d e
stop "" ""
stop c ""
check "a scenario with a result was not the one that hung" [ -z "$l1_hung" ]

echo "1..$n"
[ "$failed" = 0 ]
