/* blkbench: the L2 guest's block benchmark for tests/lab/bench-blk, in place of
 * fio (whose Debian build drags in Ceph and Gluster): O_DIRECT sequential
 * write and read in 1 MiB requests, and 4 KiB random reads at queue depth 1
 * and with THREADS threads, each for at most SECONDS.
 * Usage: blkbench DEVICE SECONDS THREADS
 * Prints one line per test: "VMMTEST BENCH NAME MB/S IOPS REQUESTS SECONDS".
 * It overwrites DEVICE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BS (1024 * 1024)
#define RAND_BS 4096
#define MAX_THREADS 64

static const char *dev;
static int fd;
static uint64_t dev_size;
static double seconds;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *name, uint64_t reqs, uint64_t bytes, double secs)
{
	printf("VMMTEST BENCH %s %.2f %.0f %llu %.2f\n", name,
	       bytes / secs / 1e6, reqs / secs, (unsigned long long)reqs, secs);
	fflush(stdout);
}

static void *buf_alloc(size_t size)
{
	void *p;

	if (posix_memalign(&p, 4096, size) != 0) {
		fprintf(stderr, "blkbench: out of memory\n");
		exit(1);
	}
	memset(p, 0x5a, size);
	return p;
}

/* Sequential: 1 MiB requests from the start, wrapping at the end. */
static int seq(const char *name, int write)
{
	char *buf = buf_alloc(SEQ_BS);
	uint64_t off = 0, reqs = 0;
	double t0 = now(), t;
	ssize_t n;

	do {
		if (off + SEQ_BS > dev_size)
			off = 0;
		n = write ? pwrite(fd, buf, SEQ_BS, off) : pread(fd, buf, SEQ_BS, off);
		if (n != SEQ_BS) {
			fprintf(stderr, "blkbench: %s at %llu: %s\n", name,
				(unsigned long long)off, n < 0 ? strerror(errno) : "short");
			return -1;
		}
		off += SEQ_BS;
		reqs++;
		t = now() - t0;
	} while (t < seconds);
	if (write && fdatasync(fd) != 0) {
		fprintf(stderr, "blkbench: fdatasync: %s\n", strerror(errno));
		return -1;
	}
	report(name, reqs, reqs * SEQ_BS, now() - t0);
	free(buf);
	return 0;
}

struct rand_job {
	pthread_t thread;
	unsigned int seed;
	double t0;
	uint64_t reqs;
	int err;
};

static void *rand_read(void *arg)
{
	struct rand_job *j = arg;
	char *buf = buf_alloc(RAND_BS);
	uint64_t blocks = dev_size / RAND_BS, off;

	do {
		off = ((uint64_t)rand_r(&j->seed) << 16 ^ rand_r(&j->seed)) % blocks;
		if (pread(fd, buf, RAND_BS, off * RAND_BS) != RAND_BS) {
			j->err = errno ? errno : EIO;
			break;
		}
		j->reqs++;
	} while (now() - j->t0 < seconds);
	free(buf);
	return NULL;
}

static int rand_test(const char *name, int threads)
{
	struct rand_job jobs[MAX_THREADS];
	uint64_t reqs = 0;
	double t0 = now();
	int i, err = 0;

	for (i = 0; i < threads; i++) {
		jobs[i] = (struct rand_job){ .seed = 1 + i, .t0 = t0 };
		if (pthread_create(&jobs[i].thread, NULL, rand_read, &jobs[i]) != 0) {
			fprintf(stderr, "blkbench: cannot start a thread\n");
			return -1;
		}
	}
	for (i = 0; i < threads; i++) {
		pthread_join(jobs[i].thread, NULL);
		reqs += jobs[i].reqs;
		if (jobs[i].err)
			err = jobs[i].err;
	}
	if (err) {
		fprintf(stderr, "blkbench: %s: %s\n", name, strerror(err));
		return -1;
	}
	report(name, reqs, reqs * RAND_BS, now() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	char name[32];
	int threads;

	if (argc != 4) {
		fprintf(stderr, "usage: blkbench DEVICE SECONDS THREADS\n");
		return 2;
	}
	dev = argv[1];
	seconds = atof(argv[2]);
	threads = atoi(argv[3]);
	if (seconds <= 0 || threads < 1 || threads > MAX_THREADS) {
		fprintf(stderr, "blkbench: SECONDS > 0, THREADS 1 to %d\n", MAX_THREADS);
		return 2;
	}
	fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &dev_size) != 0) {
		fprintf(stderr, "blkbench: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (dev_size < SEQ_BS) {
		fprintf(stderr, "blkbench: %s: smaller than 1 MiB\n", dev);
		return 1;
	}
	if (seq("seqwrite-1M", 1) || seq("seqread-1M", 0) ||
	    rand_test("randread-4k-qd1", 1))
		return 1;
	snprintf(name, sizeof(name), "randread-4k-%dthreads", threads);
	if (threads > 1 && rand_test(name, threads))
		return 1;
	return 0;
}
