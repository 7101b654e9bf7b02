# Helpers for the lab's scenario scripts (POSIX sh; busybox ash in L1): TAP
# lines, starting vmm on a machine file with a time limit, waiting for the
# guest's console markers, and reading the sections of its report.
#
# The runner gives every scenario:
#   VMM       command prefix that runs vmm (in L1: chroot /host ... vmm)
#   QEMU      command prefix that runs the host's qemu-system-x86_64
#   PCI_TOPO  command prefix that runs pci-topo
#   HOSTRUN   prefix that runs any host program ("" on the host)
#   LAB_WORK  the lab's cache as a host path (vmlinuz, initramfs-l2.cpio.gz)
#   LAB_VIEW  the same folder as this script sees it (/host$LAB_WORK in L1)
#   MACHINES  host path of the machine files made from tests/lab/machines
#   OUT       a writable folder for this scenario (its results)
#   SCRATCH   a fast local folder for this scenario (a tmpfs in L1), removed after
#   SCRATCH_HOST  the same folder as the host's programs (vmm, mkfs.ext4) see
#             it: in L1 it is inside their chroot's /run
#   TIMEOUT   the scenario's own time limit, in seconds
# A scenario prints "ok - WHAT" / "not ok - WHAT" lines; "# ..." are notes.
# shellcheck shell=sh disable=SC2034 # VM_* are for the scenarios

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
note() { echo "# $*"; }
# check WHAT COMMAND...: ok or not ok, as COMMAND succeeds
check() {
	what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

now() { read -r up _ </proc/uptime; echo "$up"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# vm_start NAME MACHINE [STDIN]: start $VMM -v -c $MACHINES/MACHINE.ini (or
# MACHINE itself when it is a path, as vm_machine gives) in the
# background, stdin from STDIN (default /dev/null), the guest's console (vmm's
# stdout) to VM_LOG and vmm's stderr to VM_ERR, killed after $VM_TIMEOUT
# seconds (default 150). Sets VM_PID, VM_LOG, VM_ERR, VM_T0. Both files are
# in $SCRATCH while vmm runs (in L1, a byte at a time into the 9p share is
# slow) and copied to $OUT/NAME.log and $OUT/NAME.err by vm_end.
vm_start() {
	case $2 in
	*/*) vm_cmd "$1" "$3" $VMM -v -c "$2" ;;
	*) vm_cmd "$1" "$3" $VMM -v -c "$MACHINES/$2.ini" ;;
	esac
}
# vm_machine MACHINE: the machine file with @SCRATCH@ replaced by the
# scenario's scratch folder (for disk images, console files), written there;
# prints its path as vmm sees it, for vm_start.
vm_machine() {
	sed "s|@SCRATCH@|$SCRATCH_HOST|g" "$LAB_VIEW/machines/$1.ini" >"$SCRATCH/$1.ini"
	cp "$SCRATCH/$1.ini" "$OUT/$1.ini"
	echo "$SCRATCH_HOST/$1.ini"
}
# vm_cmd NAME STDIN COMMAND...: the same for any command (QEMU, say).
vm_cmd() {
	VM_NAME=$1
	vm_in=${2:-/dev/null}
	shift 2
	VM_LOG=${SCRATCH:-$OUT}/$VM_NAME.log
	VM_ERR=${SCRATCH:-$OUT}/$VM_NAME.err
	VM_T0=$(now)
	echo "$*" >"$OUT/$VM_NAME.cmd"
	timeout -k 5 "${VM_TIMEOUT:-150}" "$@" <"$vm_in" >"$VM_LOG" 2>"$VM_ERR" &
	VM_PID=$!
}

# bench_qemu NAME MACHINE: vm_cmd NAME for QEMU -M MACHINE (on KVM) booting
# the lab's kernel and L2 initramfs as machines/bench.ini has vmm boot them:
# 1 CPU, 256 MiB, the same command line. Killed after 90 s.
bench_qemu() {
	# shellcheck disable=SC2086 # $QEMU is a word list
	VM_TIMEOUT=90 vm_cmd "$1" /dev/null $QEMU -M "$2" -enable-kvm -cpu host -smp 1 \
		-m 256 -nodefaults -no-user-config -display none -monitor none \
		-no-reboot -serial stdio -kernel "$LAB_WORK/vmlinuz" \
		-initrd "$LAB_WORK/initramfs-l2.cpio.gz" \
		-append "console=ttyS0 quiet loglevel=1 panic=-1 edd=off l2test=poweroff"
}

# vm_count PATTERN: how many console lines hold PATTERN (a basic regex).
vm_count() { grep -c -- "$1" "$VM_LOG" 2>/dev/null || true; }

# vm_alive: vmm (the background job) has not exited yet. A job that has exited
# stays a zombie until vm_end waits for it, and kill -0 succeeds on a zombie.
vm_alive() {
	[ -r "/proc/$VM_PID/stat" ] || return 1
	read -r va_stat <"/proc/$VM_PID/stat" || return 1
	case ${va_stat##*) } in Z* | X*) return 1 ;; esac
	return 0
}

# vm_wait PATTERN [COUNT] [SECS]: wait until COUNT (default 1) console lines
# hold PATTERN. Fails if vmm exits or SECS (default 120) pass first. Sets
# VM_SEEN to the seconds from vm_start to the moment it was seen.
vm_wait() {
	vw_n=${2:-1}
	vw_end=$(($(date +%s) + ${3:-120}))
	while :; do
		if [ "$(vm_count "$1")" -ge "$vw_n" ]; then
			VM_SEEN=$(since "$VM_T0")
			return 0
		fi
		if ! vm_alive || [ "$(date +%s)" -ge "$vw_end" ]; then
			[ "$(vm_count "$1")" -ge "$vw_n" ] && { VM_SEEN=$(since "$VM_T0"); return 0; }
			return 1
		fi
		sleep 0.05
	done
}

# vm_end: wait for vmm to exit. Sets VM_RC (its exit status; 124, or 128+N
# after a signal, when the time limit killed it) and VM_SECS.
vm_end() {
	wait "$VM_PID"
	VM_RC=$?
	VM_SECS=$(since "$VM_T0")
	note "$VM_NAME: exit status $VM_RC after ${VM_SECS}s"
	if [ -n "${SCRATCH:-}" ]; then
		cp "$VM_LOG" "$OUT/$VM_NAME.log"
		cp "$VM_ERR" "$OUT/$VM_NAME.err"
	fi
}
# vm_wait_exit SECS: wait up to SECS for vmm to exit, then vm_end. Fails
# (with vmm killed, and VM_RC set) if it did not.
vm_wait_exit() {
	vx_end=$(($(date +%s) + $1))
	while vm_alive && [ "$(date +%s)" -lt "$vx_end" ]; do sleep 0.1; done
	if vm_alive; then
		note "$VM_NAME: still running after ${1}s: killing it"
		kill -KILL "$VM_PID" 2>/dev/null
		vm_end
		return 1
	fi
	vm_end
}
# vm_stop SECS [SIG]: send SIG (default TERM) to vmm and give it SECS to exit
# (vm_wait_exit).
vm_stop() {
	kill -"${2:-TERM}" "$VM_PID" 2>/dev/null
	vm_wait_exit "$1"
}

# vm_run NAME MACHINE: vm_start and vm_end.
vm_run() {
	vm_start "$1" "$2" "${3:-}"
	vm_end
}

# vm_report: the console without carriage returns, in $OUT/report.txt.
vm_report() { tr -d '\r' <"$VM_LOG" >"$OUT/report.txt"; }
# section NAME: the lines of a report section (after vm_report).
section() {
	sed -n "/^VMMTEST BEGIN $1\$/,/^VMMTEST END $1\$/p" "$OUT/report.txt" |
		sed '1d;$d'
}
# val TEST KEY: what follows "VMMTEST TEST KEY " on the guest's first such
# line (init-l2's test results), after vm_report.
val() { sed -n "s/^VMMTEST $1 $2 //p" "$OUT/report.txt" | head -1; }
# md5 FILE: its MD5 sum, as busybox or coreutils print it.
md5() { md5sum "$1" | cut -d' ' -f1; }
# mbps BYTES T0 T1: MB/s (10^6) from two uptimes; "?" without both.
mbps() {
	awk -v b="$1" -v a="$2" -v z="$3" 'BEGIN {
		if (a == "" || z == "" || z <= a) print "?"; else printf "%.1f", b / (z - a) / 1e6 }'
}

# span T0 T1: seconds between two uptimes; "?" without both.
span() {
	awk -v a="$1" -v z="$2" 'BEGIN { if (a == "" || z == "") print "?"; else printf "%.1f", z - a }'
}

# report_cpus: the number of CPUs the guest reported, or "?" if they differ
# between /proc/cpuinfo and /sys/devices/system/cpu/online.
report_cpus() {
	section cpus | awk '
		$1 == "processors" { p = $2 }
		$1 == "online" {
			n = 0; k = split($2, r, ",")
			for (i = 1; i <= k; i++) {
				if (split(r[i], ab, "-") == 2) n += ab[2] - ab[1] + 1
				else n++
			}
		}
		END { print (p == n && p != "") ? p : "?" }'
}

# On failure, show what the guest and vmm said (as TAP notes).
# pci_devs VENDOR DEVICE: this host's PCI functions with that ID (0x1234
# 0x11e8), a BDF a line, in address order.
pci_devs() {
	for pd_d in /sys/bus/pci/devices/*; do
		[ "$(cat "$pd_d/vendor") $(cat "$pd_d/device")" = "$1 $2" ] && echo "${pd_d##*/}"
	done
	return 0
}
# pci_driver BDF: the driver the function is bound to, or nothing.
pci_driver() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
# vfio_bind BDF...: tools/vfio-bind, with vfio-pci and its IOMMU backend
# loaded (busybox modprobe leaves vfio_iommu_type1 out); its output goes to
# $OUT/vfio-bind.log.
vfio_bind() {
	modprobe vfio-pci 2>/dev/null
	modprobe vfio_iommu_type1 2>/dev/null
	sh "$LAB_DIR/../../tools/vfio-bind" "$@" >>"$OUT/vfio-bind.log" 2>&1
}
# plan_bar0 JSON NAME...: "BDF ADDR" of BAR0 of each device so named in a
# pci-topo --json plan, a line each, in address order.
plan_bar0() {
	pb_json=$1
	shift
	awk -F'"' -v names=" $* " '/"bdf":/ { bdf = $4 }
		/"name":/ { f = index(names, " " $4 " ") > 0; b = 0 }
		f && /"index": 0,/ { b = 1 } f && b && /"addr":/ { print bdf, $4; f = b = 0 }' "$pb_json"
}

vm_tail() {
	note "--- last console lines ($VM_NAME.log)"
	tr -d '\r' <"$VM_LOG" | tail -n "${1:-15}" | sed 's/^/#   /'
	note "--- stderr ($VM_NAME.err)"
	tail -n "${1:-15}" "$VM_ERR" | sed 's/^/#   /'
}
