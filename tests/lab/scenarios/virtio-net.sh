# virtio-net: L1 makes the tap vmmtap0 (10.0.2.1/24) that the machine file
# names, and listens on two ports; the guest (10.0.2.15) pings 10.0.2.1, sends
# 100 MiB to port 5000 and takes 100 MiB from port 5001. Both arrive intact
# (MD5 on both sides); the rates are figures, not verdicts.
# virtio-net-vhost.sh runs this with NET_MACHINE=virtio-net-vhost.
# timeout: 420
. "$LAB_DIR/scenarios/lib.sh"
machine=${NET_MACHINE:-virtio-net} tap=vmmtap0
mb=$(sed -n 's/.* l2mb=\([0-9]*\).*/\1/p' "$LAB_VIEW/machines/$machine.ini")
mb=${mb:-4} # init-l2's default
vhost=$(sed -n 's/^vhost *= *\([a-z]*\).*/\1/p' "$LAB_VIEW/machines/$machine.ini")
ip link del "$tap" 2>/dev/null
if ! $HOSTRUN ip tuntap add dev "$tap" mode tap >"$OUT/tap.log" 2>&1 ||
	! ip addr add 10.0.2.1/24 dev "$tap" >>"$OUT/tap.log" 2>&1 ||
	! ip link set "$tap" up >>"$OUT/tap.log" 2>&1; then
	not_ok "L1 makes the tap $tap with 10.0.2.1/24 ($(tail -1 "$OUT/tap.log"))"
	ip link del "$tap" 2>/dev/null
	exit 0
fi
dd if=/dev/urandom of="$SCRATCH/tx.bin" bs=1048576 count=$mb 2>/dev/null
tx_sum=$(md5 "$SCRATCH/tx.bin")
# busybox nc, as in the guest (on a host, nc may be another); a receiving one
# needs a stdin that never ends (see init-l2).
mkfifo "$SCRATCH/hold"
busybox nc -l -p 5000 >"$SCRATCH/rx.bin" <>"$SCRATCH/hold" 2>"$OUT/nc-rx.err" &
rx_pid=$!
busybox nc -l -p 5001 <"$SCRATCH/tx.bin" 2>"$OUT/nc-tx.err" &
tx_pid=$!
m=$(vm_machine "$machine")
# -v -v: vmm says (debug) when vhost-net cannot take the queues.
VM_TIMEOUT=$((TIMEOUT - 20)) vm_cmd net /dev/null $VMM -v -v -c "$m"
vm_end
vm_report
# The listeners end with the connections; after the guest, they have no reason
# to wait.
sleep 1
kill "$rx_pid" "$tx_pid" 2>/dev/null
wait "$rx_pid" "$tx_pid" 2>/dev/null
ip -s link show "$tap" >"$OUT/tap-stats.txt" 2>&1
ip link del "$tap" 2>/dev/null

check "vmm exits 0 when the guest powers off (got $VM_RC)" [ "$VM_RC" = 0 ]
check "the guest's test ran to its end (VMMTEST DONE)" grep -q '^VMMTEST DONE$' "$OUT/report.txt"
check "the guest's eth0 has the machine file's MAC ($(val NET MAC))" [ "$(val NET MAC)" = 52:54:00:12:34:56 ]
check "the guest pings 10.0.2.1 on the tap (ping -c 3)" [ "$(val NET PING)" = ok ]
sed -n 's/^VMMTEST NET PINGOUT /# ping: /p' "$OUT/report.txt" | tail -2
bytes=$((mb * 1048576))
# shellcheck disable=SC2046 # ok T0 T1
set -- $(val NET TX)
got=$(md5 "$SCRATCH/rx.bin") size=$(wc -c <"$SCRATCH/rx.bin")
good=no
[ "${1:-}" = ok ] && [ "$got" = "$(val NET TXSUM)" ] && [ "$size" = $bytes ] && good=yes
check "guest -> L1: $mb MiB arrive intact (md5 $got, guest's $(val NET TXSUM); $size bytes)" \
	[ $good = yes ]
note "figure: guest -> L1 (guest's nc send): $(mbps $bytes "${2:-}" "${3:-}") MB/s, $(span "${2:-}" "${3:-}") s"
# shellcheck disable=SC2046
set -- $(val NET RX)
# shellcheck disable=SC2046 # md5 size
set -- "${1:-}" "${2:-}" "${3:-}" $(val NET RXSUM)
good=no
[ "$1" = ok ] && [ "${4:-}" = "$tx_sum" ] && [ "${5:-}" = $bytes ] && good=yes
check "L1 -> guest: $mb MiB arrive intact (md5 ${4:-}, L1's $tx_sum; ${5:-0} bytes)" \
	[ $good = yes ]
note "figure: L1 -> guest (guest's nc receive): $(mbps $bytes "$2" "$3") MB/s, $(span "$2" "$3") s"
# With vhost = true, L1's kernel moves the packets: vmm's own device thread
# sees few buffers (it counts those it handled), and -v -v shows no fallback.
if [ "$vhost" = true ] && [ "${VMM_IMPL:-vmm}" = vmm ]; then
	used=$(sed -n 's/.*net0: \([0-9]*\) buffers used.*/\1/p' "$OUT/net.err")
	fb=$(grep -c 'vhost-net not used' "$OUT/net.err")
	good=no
	[ "$fb" = 0 ] && [ -n "$used" ] && [ "$used" -lt $((mb * 16)) ] && good=yes
	check "vhost-net carries the data (vmm handled ${used:-?} buffers itself; $fb fallback messages)" \
		[ $good = yes ]
	grep 'vhost-net' "$OUT/net.err" | head -3 | sed 's/^/# /'
elif [ "$vhost" = true ]; then
	note "vhost = true: vhost-net's use is checked with vmm only"
fi
grep -q '^VMMTEST DONE$' "$OUT/report.txt" && [ "$VM_RC" = 0 ] || vm_tail
exit 0
