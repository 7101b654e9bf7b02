/*
 * virtio-net on a tap: opening the tap and matching its offloads to the
 * guest's features, and the userspace data path (queue 0 receive, 1 transmit)
 * or, with vhost = on, handing both to vhost-net at each start.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <endian.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "util/log.h"
#include "virtio/net.h"
#include "virtio/vhost_net.h"

#define NET_RXQ		0
#define NET_TXQ		1
#define NET_HDR_LEN	((unsigned int)sizeof(struct virtio_net_hdr_mrg_rxbuf))
#define NET_MAX_FRAME	65550	/* a 64 KiB GSO packet with its Ethernet and VLAN headers */
#define NET_RX_BUDGET	64	/* packets per round before the loop looks at other events */

_Static_assert(VIRTIO_NET_QUEUE_SIZE_MAX <= VIRTQ_MAX_SIZE, "queue size beyond the virtqueue's");

/* The guest receive offloads, and the tap offload that lets the tap send them. */
static const struct {
	unsigned int feature;
	unsigned int tun;
} net_rx_offloads[] = {
	{ VIRTIO_NET_F_GUEST_CSUM, TUN_F_CSUM },
	{ VIRTIO_NET_F_GUEST_TSO4, TUN_F_TSO4 },
	{ VIRTIO_NET_F_GUEST_TSO6, TUN_F_TSO6 },
	{ VIRTIO_NET_F_GUEST_ECN, TUN_F_TSO_ECN },
	{ VIRTIO_NET_F_GUEST_UFO, TUN_F_UFO },
};

struct net_dev {
	struct virtio_device *d;
	int fd;
	bool own_fd;
	bool raw;			/* raw_fd_for_tests: no tap ioctls */
	char ifname[IFNAMSIZ];
	uint8_t config[10];		/* mac, status, max_virtqueue_pairs */
	unsigned int hdr_len;		/* 12, or 10 without VERSION_1 and MRG_RXBUF */
	bool mrg_rxbuf;
	uint32_t events;		/* what the tap watch waits for now */
	bool hung_up;			/* the tap went away: no longer watched */
	bool tx_blocked;		/* the tap said EAGAIN: wait for EPOLLOUT */
	struct virtio_net_stats stats;
	bool use_vhost;			/* vhost = on */
	bool vhost_fallback_logged;
	struct vhost_net vhost;		/* .running: the kernel has the queues */

	/* The packet read from the tap and not yet all in guest buffers. */
	uint8_t *rx_buf;
	size_t rx_len;			/* 0: none pending */
	size_t rx_done;			/* bytes already in held chains */
	unsigned int rx_held;		/* chains taken for it, not yet pushed */
	/* At most a ring's worth, and no ring is longer than VIRTQ_MAX_SIZE. */
	uint16_t rx_heads[VIRTQ_MAX_SIZE];
	uint32_t rx_lens[VIRTQ_MAX_SIZE];
	struct virtq_chain rx_first;	/* the one whose header gets num_buffers */
	struct virtq_chain chain;
};

static void net_set_events(struct net_dev *n, uint32_t events)
{
	int ret;

	if (n->events == events || n->hung_up)
		return;
	ret = event_loop_set_events(&n->d->loop, n->fd, events);
	if (ret)
		pr_debug("%s: tap watch: %s", n->d->name, strerror(-ret));
	n->events = events;
}

static void net_update_events(struct net_dev *n, bool want_in)
{
	uint32_t ev = 0;

	if (n->d->started) {
		if (want_in)
			ev |= EPOLLIN;
		if (n->tx_blocked)
			ev |= EPOLLOUT;
	}
	net_set_events(n, ev);
}

static void net_rx_forget(struct net_dev *n)
{
	n->rx_len = 0;
	n->rx_done = 0;
	n->rx_held = 0;
}

/*
 * Put the pending packet in the guest's receive buffers: 1 when done (or
 * dropped), 0 when the guest has no buffer for it now (it stays pending),
 * -EIO when the driver broke a rule (the device is stopped).
 */
static int net_rx_deliver(struct net_dev *n)
{
	struct virtio_device *d = n->d;
	struct virtq *vq = &d->vqs[NET_RXQ];

	while (n->rx_done < n->rx_len) {
		struct virtq_chain *c = n->rx_held ? &n->chain : &n->rx_first;
		size_t chunk;
		int ret;

		ret = virtq_pop(vq, c);
		if (ret < 0) {
			virtio_device_broken(d, "receive queue: %s", vq->error);
			return -EIO;
		}
		if (!ret)
			return 0;
		if (c->nout) {
			virtio_device_broken(d, "receive queue: chain %u has driver-readable buffers",
					     c->head);
			return -EIO;
		}
		if (!n->mrg_rxbuf && c->in_len < n->rx_len) {
			virtq_unpop(vq);
			net_rx_forget(n);
			n->stats.rx_dropped++;
			return 1;
		}
		if (!n->rx_held && c->in_len < n->hdr_len) {
			virtio_device_broken(d, "receive queue: chain %u shorter than the header",
					     c->head);
			return -EIO;
		}
		chunk = n->rx_len - n->rx_done;
		if (chunk > c->in_len)
			chunk = c->in_len;
		virtq_copy_to_in(c, 0, n->rx_buf + n->rx_done, chunk);
		n->rx_heads[n->rx_held] = c->head;
		n->rx_lens[n->rx_held] = chunk;
		n->rx_held++;
		n->rx_done += chunk;
		/* The driver can never give more: a packet must fit in one ring. */
		if (n->rx_done < n->rx_len && n->rx_held >= vq->size) {
			virtio_device_broken(d, "receive queue: buffers too small for a %zu-byte packet",
					     n->rx_len);
			return -EIO;
		}
	}
	if (n->hdr_len == NET_HDR_LEN) {
		uint16_t nb = htole16(n->rx_held);

		virtq_copy_to_in(&n->rx_first,
				 offsetof(struct virtio_net_hdr_mrg_rxbuf, num_buffers),
				 &nb, sizeof(nb));
	}
	virtq_push_n(vq, n->rx_heads, n->rx_lens, n->rx_held);
	net_rx_forget(n);
	n->stats.rx_packets++;
	return 1;
}

/* Read one packet from the tap: 1, 0 when there is none, or a negative errno. */
static int net_tap_read(struct net_dev *n)
{
	ssize_t r;

	for (;;) {
		r = read(n->fd, n->rx_buf, n->hdr_len + NET_MAX_FRAME);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;
		if ((size_t)r <= n->hdr_len)
			continue;	/* no frame: nothing to give the guest */
		break;
	}
	n->rx_len = r;
	n->rx_done = 0;
	n->rx_held = 0;
	return 1;
}

/* Move packets from the tap to the guest until either runs dry. */
static void net_rx(struct net_dev *n)
{
	struct virtio_device *d = n->d;
	struct virtq *vq = &d->vqs[NET_RXQ];
	uint64_t packets = n->stats.rx_packets;
	unsigned int rounds = 0;
	bool want_in = false;
	int ret;

	if (!d->started || !vq->size) {
		net_update_events(n, false);
		return;
	}
	virtq_disable_notify(vq);
	for (;;) {
		if (!n->rx_len) {
			ret = net_tap_read(n);
			if (ret == -EPIPE || ret == -EBADFD)
				break;	/* the tap went away: its EPOLLHUP/ERR follows */
			if (ret < 0) {
				/* The packet is lost (too big for the buffer...); go on. */
				pr_debug("%s: reading the tap: %s", d->name, strerror(-ret));
				n->stats.rx_dropped++;
				if (++rounds >= NET_RX_BUDGET) {
					want_in = true;
					break;
				}
				continue;
			}
			if (!ret) {
				want_in = true;
				break;
			}
		}
		ret = net_rx_deliver(n);
		if (ret < 0)
			return;
		if (!ret) {
			/* Out of buffers: sleep until the driver kicks queue 0. */
			if (virtq_enable_notify(vq)) {
				virtq_disable_notify(vq);
				continue;
			}
			break;
		}
		if (++rounds >= NET_RX_BUDGET) {
			want_in = true;	/* level-triggered: comes back next round */
			break;
		}
	}
	net_update_events(n, want_in);
	if (n->stats.rx_packets != packets)
		virtio_queue_notify(d, NET_RXQ);
}

/* Send the guest's transmit chains to the tap until the queue or the tap is full. */
static void net_tx(struct net_dev *n)
{
	struct virtio_device *d = n->d;
	struct virtq *vq = &d->vqs[NET_TXQ];
	struct virtq_chain *c = &n->chain;
	bool pushed = false;
	ssize_t r;
	int ret;

	if (!d->started || !vq->size || n->tx_blocked)
		return;
	virtq_disable_notify(vq);
	for (;;) {
		ret = virtq_pop(vq, c);
		if (ret < 0) {
			virtio_device_broken(d, "transmit queue: %s", vq->error);
			return;
		}
		if (!ret) {
			if (virtq_enable_notify(vq)) {
				virtq_disable_notify(vq);
				continue;
			}
			break;
		}
		if (c->nin) {
			virtio_device_broken(d, "transmit queue: chain %u has device-writable buffers",
					     c->head);
			return;
		}
		if (c->out_len < n->hdr_len) {
			virtio_device_broken(d, "transmit queue: chain %u shorter than the header",
					     c->head);
			return;
		}
		if (c->out_len > n->hdr_len + NET_MAX_FRAME) {
			n->stats.tx_dropped++;
			virtq_push(vq, c->head, 0);
			pushed = true;
			continue;
		}
		do {
			r = writev(n->fd, c->iov, c->nout);
		} while (r < 0 && errno == EINTR);
		if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			virtq_unpop(vq);
			n->tx_blocked = true;
			net_update_events(n, n->events & EPOLLIN);
			break;
		}
		if (r < 0) {
			pr_debug("%s: tap write: %m", d->name);
			n->stats.tx_dropped++;
		} else {
			n->stats.tx_packets++;
		}
		virtq_push(vq, c->head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_queue_notify(d, NET_TXQ);
}

static void net_tap_event(void *opaque, uint32_t events)
{
	struct net_dev *n = opaque;
	struct virtio_device *d = n->d;

	pthread_mutex_lock(&d->lock);
	if (!d->started || n->vhost.running) {
		net_set_events(n, 0);
	} else {
		if (events & EPOLLOUT) {
			n->tx_blocked = false;
			net_update_events(n, n->events & EPOLLIN);
			net_tx(n);
		}
		if (events & EPOLLIN && d->started)
			net_rx(n);
	}
	/* Reported even when paused (a deleted interface): stop watching. */
	if (events & (EPOLLERR | EPOLLHUP) && !n->hung_up) {
		pr_warn("%s: tap %s: gone (%s)", d->name, n->ifname,
			events & EPOLLHUP ? "hang-up" : "error");
		event_loop_del(&d->loop, n->fd);
		n->hung_up = true;
	}
	pthread_mutex_unlock(&d->lock);
}

static int net_set_offload(struct net_dev *n, unsigned int tun_flags)
{
	if (n->raw)
		return tun_flags ? -EOPNOTSUPP : 0;
	return ioctl(n->fd, TUNSETOFFLOAD, tun_flags) < 0 ? -errno : 0;
}

static int net_start(struct virtio_device *d)
{
	struct net_dev *n = d->priv;
	unsigned int tun_flags = 0;
	int hdr_len, ret;

	n->mrg_rxbuf = virtio_has_feature(d, VIRTIO_NET_F_MRG_RXBUF);
	if (n->mrg_rxbuf || virtio_has_feature(d, VIRTIO_F_VERSION_1))
		n->hdr_len = NET_HDR_LEN;
	else
		n->hdr_len = sizeof(struct virtio_net_hdr);
	hdr_len = n->hdr_len;
	if (!n->raw && ioctl(n->fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		ret = -errno;
		pr_err("%s: tap %s: setting the header size: %m", d->name, n->ifname);
		return ret;
	}
	for (size_t i = 0; i < sizeof(net_rx_offloads) / sizeof(net_rx_offloads[0]); i++)
		if (virtio_has_feature(d, net_rx_offloads[i].feature))
			tun_flags |= net_rx_offloads[i].tun;
	/* The kernel refuses what the spec's feature dependencies forbid. */
	if (!(tun_flags & TUN_F_CSUM))
		tun_flags = 0;
	if (!(tun_flags & (TUN_F_TSO4 | TUN_F_TSO6)))
		tun_flags &= ~TUN_F_TSO_ECN;
	ret = net_set_offload(n, tun_flags);
	if (ret) {
		pr_err("%s: tap %s: offloads 0x%x: %s", d->name, n->ifname, tun_flags,
		       strerror(-ret));
		return ret;
	}
	net_rx_forget(n);
	n->tx_blocked = false;
	if (n->use_vhost) {
		const char *why = vhost_net_unusable(d);

		if (!why) {
			ret = vhost_net_start(&n->vhost, d, n->fd);
			if (ret)
				return ret;
			net_set_events(n, 0);
			return 0;
		}
		if (!n->vhost_fallback_logged)
			pr_debug("%s: vhost-net not used (%s): data path in the VMM",
				 d->name, why);
		n->vhost_fallback_logged = true;
	}
	/* d->started is set only when this returns: watch the tap directly. */
	net_set_events(n, EPOLLIN);
	return 0;
}

static void net_reset(struct virtio_device *d)
{
	struct net_dev *n = d->priv;

	vhost_net_stop(&n->vhost, d);
	net_set_events(n, 0);
	net_rx_forget(n);
	n->tx_blocked = false;
	if (net_set_offload(n, 0))
		pr_debug("%s: tap %s: clearing offloads: %m", d->name, n->ifname);
}

static void net_kick(struct virtio_device *d, unsigned int q)
{
	struct net_dev *n = d->priv;

	if (n->vhost.running) {
		uint64_t one = 1;

		/*
		 * The device thread read this doorbell just before vhost took
		 * the queue: ring it again for the kernel.
		 */
		if (write(virtio_queue_kick_fd(d, q), &one, sizeof(one)) < 0)
			pr_debug("%s: passing a kick to vhost-net: %m", d->name);
		return;
	}
	if (q == NET_RXQ)
		net_rx(n);
	else if (q == NET_TXQ)
		net_tx(n);
}

static void net_destroy(struct virtio_device *d)
{
	struct net_dev *n = d->priv;

	if (!n)
		return;
	vhost_net_close(&n->vhost);
	if (n->fd >= 0) {
		if (!n->hung_up)
			event_loop_del(&d->loop, n->fd);
		if (n->own_fd)
			close(n->fd);
	}
	free(n->rx_buf);
	free(n);
	d->priv = NULL;
}

static const struct virtio_device_ops net_ops = {
	.start = net_start,
	.reset = net_reset,
	.kick = net_kick,
	.destroy = net_destroy,
};

static const char *net_errno_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ENODEV:
		return "no /dev/net/tun (is the tun module loaded?)";
	case EPERM:
	case EACCES:
		return "permission denied (needs CAP_NET_ADMIN or a tap owned by this user)";
	case EBUSY:
		return "in use by another process";
	default:
		return strerror(err);
	}
}

/* Open (or create) the tap named name. */
static int net_open_tap(struct net_dev *n, const char *name, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	int ret;

	if (strlen(name) >= IFNAMSIZ || !*name) {
		snprintf(err, errlen, "tap %s: not a valid interface name (1 to %d characters)",
			 name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	n->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (n->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "tap %s: %s", name, net_errno_hint(-ret));
		return ret;
	}
	n->own_fd = true;
	strcpy(ifr.ifr_name, name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(n->fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		if (ret == -EINVAL)
			snprintf(err, errlen, "tap %s: exists and is not a single-queue tap", name);
		else
			snprintf(err, errlen, "tap %s: %s", name, net_errno_hint(-ret));
		return ret;
	}
	memcpy(n->ifname, ifr.ifr_name, IFNAMSIZ);
	n->ifname[IFNAMSIZ - 1] = 0;
	return 0;
}

/* Check the user's tap fd. */
static int net_use_fd(struct net_dev *n, int fd, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	int fl;

	n->fd = fd;
	snprintf(n->ifname, sizeof(n->ifname), "fd %d", fd);
	if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
		snprintf(err, errlen, "tap fd %d: not a tap device (%m)", fd);
		return -EINVAL;
	}
	memcpy(n->ifname, ifr.ifr_name, IFNAMSIZ);
	n->ifname[IFNAMSIZ - 1] = 0;
	if ((ifr.ifr_flags & (IFF_TUN | IFF_TAP)) != IFF_TAP) {
		snprintf(err, errlen, "tap fd %d: %s is a tun, not a tap", fd, n->ifname);
		return -EINVAL;
	}
	/* An attached fd cannot gain IFF_VNET_HDR: only TUNSETIFF sets it. */
	if (!(ifr.ifr_flags & IFF_VNET_HDR)) {
		snprintf(err, errlen, "tap fd %d: %s was opened without IFF_VNET_HDR", fd,
			 n->ifname);
		return -EINVAL;
	}
	if (!(ifr.ifr_flags & IFF_NO_PI)) {
		snprintf(err, errlen, "tap fd %d: %s was opened without IFF_NO_PI", fd,
			 n->ifname);
		return -EINVAL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "tap fd %d: cannot make it non-blocking: %m", fd);
		return -EINVAL;
	}
	return 0;
}

/* Which receive offloads the tap can give: the guest is offered only those. */
static uint64_t net_probe_offloads(struct net_dev *n)
{
	unsigned int base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	uint64_t f = 0;

	if (ioctl(n->fd, TUNSETOFFLOAD, TUN_F_CSUM) < 0)
		return 0;
	f |= 1ULL << VIRTIO_NET_F_GUEST_CSUM;
	if (!ioctl(n->fd, TUNSETOFFLOAD, base))
		f |= 1ULL << VIRTIO_NET_F_GUEST_TSO4 | 1ULL << VIRTIO_NET_F_GUEST_TSO6 |
		     1ULL << VIRTIO_NET_F_GUEST_ECN;
	if (!ioctl(n->fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_UFO))
		f |= 1ULL << VIRTIO_NET_F_GUEST_UFO;
	/* Nothing offloaded until the guest asks. */
	if (ioctl(n->fd, TUNSETOFFLOAD, 0) < 0)
		pr_debug("tap %s: clearing offloads: %m", n->ifname);
	return f;
}

int virtio_net_init(struct virtio_device *d, const struct virtio_net_params *p,
		    char *err, size_t errlen)
{
	unsigned int queue_size = p->queue_size ? p->queue_size : VIRTIO_NET_QUEUE_SIZE_DEFAULT;
	struct net_dev *n;
	int hdr_len = NET_HDR_LEN;
	uint64_t f;
	int ret;

	if (!virtq_size_ok(queue_size, VIRTIO_NET_QUEUE_SIZE_MIN, VIRTIO_NET_QUEUE_SIZE_MAX)) {
		if (p->tap)
			snprintf(err, errlen, "tap %s: queue size %u: need a power of two from %d to %d",
				 p->tap, queue_size, VIRTIO_NET_QUEUE_SIZE_MIN,
				 VIRTIO_NET_QUEUE_SIZE_MAX);
		else
			snprintf(err, errlen, "tap fd %d: queue size %u: need a power of two from %d to %d",
				 p->fd, queue_size, VIRTIO_NET_QUEUE_SIZE_MIN,
				 VIRTIO_NET_QUEUE_SIZE_MAX);
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "tap %s: out of memory", p->tap ? p->tap : "fd");
		return -ENOMEM;
	}
	n->d = d;
	n->fd = -1;
	n->vhost.fd = -1;
	n->hdr_len = NET_HDR_LEN;
	n->rx_buf = malloc(NET_HDR_LEN + NET_MAX_FRAME);
	if (!n->rx_buf) {
		snprintf(err, errlen, "tap %s: out of memory", p->tap ? p->tap : "fd");
		ret = -ENOMEM;
		goto err_free;
	}
	if (p->raw_fd_for_tests) {
		n->raw = true;
		n->fd = p->fd;
		snprintf(n->ifname, sizeof(n->ifname), "fd %d", p->fd);
		ret = fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
		if (ret < 0) {
			ret = -errno;
			snprintf(err, errlen, "tap fd %d: %m", p->fd);
			goto err_free;
		}
	} else {
		ret = p->tap ? net_open_tap(n, p->tap, err, errlen) :
			       net_use_fd(n, p->fd, err, errlen);
		if (ret)
			goto err_close;
		if (ioctl(n->fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
			ret = -errno;
			snprintf(err, errlen, "tap %s: cannot set the virtio header size: %m",
				 n->ifname);
			goto err_close;
		}
	}

	f = 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS |
	    1ULL << VIRTIO_NET_F_MRG_RXBUF;
	if (!n->raw) {
		/* Whatever the guest sends, a tap with IFF_VNET_HDR takes. */
		f |= 1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_HOST_TSO4 |
		     1ULL << VIRTIO_NET_F_HOST_TSO6 | 1ULL << VIRTIO_NET_F_HOST_ECN;
		f |= net_probe_offloads(n);
	}
	if (p->vhost) {
		char who[IFNAMSIZ + 8];

		snprintf(who, sizeof(who), "tap %s", n->ifname);
		ret = vhost_net_open(&n->vhost, p->vhost_path, who, err, errlen);
		if (ret)
			goto err_close;
		n->use_vhost = true;
		f = vhost_net_offer(f, n->vhost.features);
	}

	memcpy(n->config, p->mac, 6);
	n->config[6] = VIRTIO_NET_S_LINK_UP;	/* status, little-endian */
	n->config[8] = 1;			/* max_virtqueue_pairs */

	/* Paused until the driver starts the device. */
	ret = virtio_device_watch(d, n->fd, 0, net_tap_event, n);
	if (ret) {
		snprintf(err, errlen, "tap %s: cannot watch it: %s", n->ifname, strerror(-ret));
		goto err_vhost;
	}

	d->id = VIRTIO_ID_NET;
	d->host_features = f;
	d->nr_queues = 2;
	d->queue_size_max = (uint16_t)queue_size;
	d->config = n->config;
	d->config_size = sizeof(n->config);
	d->ops = &net_ops;
	d->priv = n;
	return 0;

err_vhost:
	vhost_net_close(&n->vhost);
err_close:
	if (n->own_fd && n->fd >= 0)
		close(n->fd);
err_free:
	free(n->rx_buf);
	free(n);
	return ret;
}

void virtio_net_get_stats(struct virtio_device *d, struct virtio_net_stats *st)
{
	struct net_dev *n = d->priv;

	pthread_mutex_lock(&d->lock);
	if (n)
		*st = n->stats;
	else
		memset(st, 0, sizeof(*st));
	pthread_mutex_unlock(&d->lock);
}
