# Shared by the lab's host-side scripts (setup, run): the cache folder, the
# package and module lists, and the stamp that tells whether setup is current.
# shellcheck shell=bash disable=SC2034,SC2154

LAB_PKGS="qemu-system-x86 busybox-static kmod cpio acpica-tools pciutils gzip
e2fsprogs iproute2 gcc libc6-dev make libelf1 strace python3 zstd"
# uio_pci_generic: a host driver for the vfio-group scenario's refused group.
L1_MODULES="kvm_amd vfio-pci vfio_iommu_type1 virtio_pci 9pnet_virtio 9p tun vhost_net
uio_pci_generic"
# L2 loads these when its command line names them (l2mods=): the virtio
# drivers and ext4 (crc32c_generic: ext4 asks for crc32c, and L2 has no
# /sbin/modprobe for the kernel to load it on demand); the edu test loads
# uio_pci_generic itself (its INTx); nvme drives a passed-through NVMe.
L2_MODULES="virtio_pci virtio_blk virtio_net virtio_console virtio_rng
crc32c_generic ext4 uio_pci_generic nvme"

die() { echo "lab: $*" >&2; exit 2; }

# Check LAB_WORK, make it absolute and create it. It goes on L1's kernel command
# line (no spaces) and must stay visible in L1's chroot of the host's "/",
# where /run, /proc, /sys and /dev are mounted over.
lab_work_init() {
	LAB_WORK=${LAB_WORK:-/var/tmp/vmm-lab}
	case $LAB_WORK in
	*[[:space:]]*) die "LAB_WORK must not contain spaces: '$LAB_WORK'" ;;
	esac
	mkdir -p "$LAB_WORK" || die "cannot create LAB_WORK=$LAB_WORK"
	LAB_WORK=$(cd "$LAB_WORK" && pwd -P)
	case $LAB_WORK/ in
	/run/* | /proc/* | /sys/* | /dev/*)
		die "LAB_WORK must not be under /run, /proc, /sys or /dev: $LAB_WORK" ;;
	esac
	export LAB_WORK
}

# A checksum of what the images are built from: setup is stale when it changes.
lab_inputs_sum() {
	cat "$here/setup" "$here/lib-host.sh" "$here/init-l1" "$here/init-l2" \
		"$here/blkbench.c" "$here/edu_msi/edu_msi.c" "$here/edu_msi/Kbuild" \
		"$here/repack-kernel" |
		md5sum | cut -d' ' -f1
}

# Scenarios of those named without a result ($out/NAME/rc) after an L1.
unfinished() {
	local s
	for s in "$@"; do [ -f "$out/$s/rc" ] || echo "$s"; done
}

resumable() { grep -qs '^# resumable' "$here/scenarios/$1.sh"; }

# l1_after_stop HUNG SCENARIO...: an L1 stopped with HUNG running (empty: it
# stopped between scenarios); sets l1_left to the scenarios the next L1 runs,
# HUNG last. One that was running when L1_STRIKES (5) L1s stopped is dropped
# for good (and said so), unless it is resumable: a scenario that kills L1
# every time must not take every L1 boot. HUNG with a result counts as
# empty; l1_hung says which it was. What it remembers is in l1_struck and
# l1_dropped, which the caller empties before its first L1.
l1_after_stop() {
	local hung=$1 s n=0
	l1_left=''
	shift
	[ -z "$hung" ] || [ ! -f "$out/$hung/rc" ] || hung=''
	l1_hung=$hung
	if [ -n "$hung" ]; then
		l1_struck="$l1_struck $hung"
		for s in $l1_struck; do [ "$s" != "$hung" ] || n=$((n + 1)); done
		if [ "$n" -ge "${L1_STRIKES:-5}" ] && ! resumable "$hung"; then
			l1_dropped="$l1_dropped $hung"
			echo "# lab: $hung was running when $n L1s stopped: not run again"
		fi
	fi
	for s in $(unfinished "$@"); do
		case " $l1_dropped $hung " in *" $s "*) ;; *) l1_left="${l1_left:+$l1_left }$s" ;; esac
	done
	[ -z "$hung" ] || case " $l1_dropped " in
		*" $hung "*) ;;
		*) l1_left="${l1_left:+$l1_left }$hung" ;;
	esac
}
