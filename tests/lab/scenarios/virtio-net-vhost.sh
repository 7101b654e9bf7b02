# virtio-net-vhost: virtio-net.sh on a card with vhost = true, 32 MiB each way:
# ping and transfers as there, and (with vmm) L1's vhost-net moves the data.
# timeout: 300
# shellcheck disable=SC2034 # read by virtio-net.sh
NET_MACHINE=virtio-net-vhost
. "$LAB_DIR/scenarios/virtio-net.sh"
