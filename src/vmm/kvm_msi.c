/* MSI vectors as eventfds, GSI routes and irqfds. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/log.h"
#include "vmm/kvm_msi.h"

int kvm_msi_create(struct kvm_msi *m, struct kvm *kvm, unsigned int nr, const char *name)
{
	memset(m, 0, sizeof(*m));
	m->kvm = kvm;
	m->name = name;
	m->v = calloc(nr, sizeof(*m->v));
	if (!m->v)
		return -ENOMEM;
	for (unsigned int i = 0; i < nr; i++)
		m->v[i].efd = -1;
	for (unsigned int i = 0; i < nr; i++) {
		struct kvm_msi_vector *v = &m->v[i];

		v->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		m->nr++;
		if (v->efd < 0) {
			int ret = -errno;

			kvm_msi_destroy(m);
			return ret;
		}
		v->gsi = kvm_msi_route_add(kvm);
		if (v->gsi < 0) {
			int ret = v->gsi;

			kvm_msi_destroy(m);
			return ret;
		}
	}
	return 0;
}

void kvm_msi_destroy(struct kvm_msi *m)
{
	for (unsigned int i = 0; i < m->nr; i++) {
		struct kvm_msi_vector *v = &m->v[i];

		if (v->bound)
			kvm_irqfd(m->kvm, v->efd, (unsigned int)v->gsi, false);
		if (v->efd >= 0)
			close(v->efd);
	}
	free(m->v);
	m->v = NULL;
	m->nr = 0;
}

static int msi_update(void *opaque, unsigned int vec, const struct msi_msg *msg, bool masked)
{
	struct kvm_msi *m = opaque;
	struct kvm_msi_vector *v;
	int ret;

	if (vec >= m->nr)
		return -EINVAL;
	v = &m->v[vec];
	if (masked) {
		if (!v->bound)
			return 0;
		ret = kvm_irqfd(m->kvm, v->efd, (unsigned int)v->gsi, false);
		if (!ret)
			v->bound = false;
		return ret;
	}
	if (!v->routed || v->msg.addr != msg->addr || v->msg.data != msg->data) {
		ret = kvm_msi_route_set(m->kvm, (unsigned int)v->gsi, msg->addr, msg->data);
		if (ret) {
			pr_warn("%s: MSI vector %u: cannot route it: %s", m->name, vec, strerror(-ret));
			return ret;
		}
		v->routed = true;
		v->msg = *msg;
	}
	if (v->bound)
		return 0;
	/* KVM delivers at once what the eventfd counted while unbound. */
	ret = kvm_irqfd(m->kvm, v->efd, (unsigned int)v->gsi, true);
	if (ret) {
		pr_warn("%s: MSI vector %u: KVM_IRQFD: %s", m->name, vec, strerror(-ret));
		return ret;
	}
	v->bound = true;
	return 0;
}

static bool msi_pending(void *opaque, unsigned int vec)
{
	struct kvm_msi *m = opaque;
	struct pollfd p;

	if (vec >= m->nr || m->v[vec].bound)
		return false;
	p = (struct pollfd){ .fd = m->v[vec].efd, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void msi_fire_vec(void *opaque, unsigned int vec)
{
	struct kvm_msi *m = opaque;
	uint64_t one = 1;

	if (vec < m->nr && write(m->v[vec].efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("%s: MSI vector %u: %m", m->name, vec);
}

static int msi_eventfd(void *opaque, unsigned int vec)
{
	struct kvm_msi *m = opaque;

	return vec < m->nr ? m->v[vec].efd : -1;
}

const struct msi_ops kvm_msi_ops = {
	.update = msi_update,
	.pending = msi_pending,
	.fire = msi_fire_vec,
	.eventfd = msi_eventfd,
};
