// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-stress: races against UFFDIO_CONTINUE_MODE_WP and UFFDIO_COPY_MODE_WP,
 * bounded in time, checking invariants as it goes.
 *
 *   uffd-stress [-t SECONDS] [-s SEED] [SCENARIO...]
 *
 * Without -t, the time is uffdwp.stress_secs= of the kernel command line
 * (how make check-debug DURATION=... passes it), or 30 s.
 *
 * Scenarios (default: all, the time split evenly):
 *   shmem, hugetlb   a shared memfd mapping registered MINOR|WP, write-
 *                    tracked as a VMM tracks guest memory: a handler maps
 *                    each minor fault with CONTINUE|WP and, on a WP fault,
 *                    marks the page dirty before it unprotects it; a
 *                    collector write-protects each page, reads it and takes
 *                    its dirty bit: a page that changed without its dirty
 *                    bit is a lost write.
 *   shmem-private, hugetlb-private
 *                    the same on a MAP_PRIVATE mapping of the memfd (no
 *                    collector: a zap legitimately reverts a private page)
 *   hugetlb-copy     a MAP_PRIVATE|MAP_NORESERVE hugetlb mapping registered
 *                    MISSING|WP, faults resolved with UFFDIO_COPY|WP: the
 *                    path of the hugetlb use-after-free fixes (patches 1-2)
 * Against each, writers and readers on random pages and a racer doing, at
 * random, MADV_DONTNEED, fallocate(PUNCH_HOLE), UFFDIO_WRITEPROTECT off
 * and on, and fork() (the child reads a page and exits).
 *
 * Invariants: every ioctl returns 0 or an errno of its documented set;
 * word 0 of every page holds its page number in the high half (or 0, a
 * page punched out); no lost write in the tracked scenarios; every access
 * finishes (no fault left unresolved).  Prints what it did per scenario
 * (TAP, one result per scenario) and exits 1 on any violation.  A seed
 * replays the same random choices (the interleaving is the kernel's).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "guest-util.h"

#define NR_WRITERS	2
#define NR_PAGES_SHMEM	256
#define NR_PAGES_HUGE	16

enum op {
	OP_WRITE, OP_READ, OP_DONTNEED, OP_PUNCH, OP_UNPROTECT, OP_FORK,
	OP_MINOR, OP_MISSING, OP_WP_FAULT, OP_COLLECT, NR_OPS,
};
static const char * const op_name[] = {
	"writes", "reads", "dontneed", "punch", "wp-toggle", "fork",
	"minor-faults", "missing-faults", "wp-faults", "collections",
};

struct scenario {
	const char *name;
	bool huge, shared, copy;
};

static const struct scenario scenarios[] = {
	{ "shmem", false, true, false },
	{ "hugetlb", true, true, false },
	{ "shmem-private", false, false, false },
	{ "hugetlb-private", true, false, false },
	{ "hugetlb-copy", true, false, true },
};

/* One run of a scenario. */
struct run {
	const struct scenario *sc;
	size_t psize;
	unsigned long npages;
	int memfd;		/* -1 for hugetlb-copy */
	int uffd;
	char *area;
	char *alias;		/* shared: an unregistered mapping of the file */
	char *src;		/* hugetlb-copy: the page UFFDIO_COPY copies */
	uint8_t *dirty;		/* per page, set before a page is unprotected */
	pthread_mutex_t *plock;	/* per page: dirty bit and protection change together */
	uint64_t *seen;		/* collector: word 0 at the last collection */
	volatile bool stop;
	volatile bool stop_server;
	unsigned long ops[NR_OPS];
	unsigned long violations;
	pthread_mutex_t lock;	/* violations and their messages */
};

static unsigned int seed = 1;
static unsigned int test_nr;	/* TAP number of the scenario running */

static void count(struct run *r, enum op op)
{
	__atomic_add_fetch(&r->ops[op], 1, __ATOMIC_RELAXED);
}

#define violation(r, ...) do {						\
	pthread_mutex_lock(&(r)->lock);					\
	if ((r)->violations++ < 20) {					\
		printf("# %s: VIOLATION: ", (r)->sc->name);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
	pthread_mutex_unlock(&(r)->lock);				\
} while (0)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static char *page(struct run *r, unsigned long p)
{
	return r->area + p * r->psize;
}

static unsigned long page_of(struct run *r, unsigned long addr)
{
	return (addr - (unsigned long)r->area) / r->psize;
}

/* ---- ioctls; an errno outside @ok (0-terminated) is a violation ---- */

static bool allowed(int err, const int *ok)
{
	for (; *ok; ok++)
		if (err == *ok)
			return true;
	return false;
}

static int range_ioctl(struct run *r, unsigned long req, void *arg,
		       const char *what, const int *ok, unsigned long p)
{
	if (!ioctl(r->uffd, req, arg))
		return 0;
	if (!allowed(errno, ok))
		violation(r, "%s on page %lu: %s", what, p, strerror(errno));
	return errno;
}

static void wake(struct run *r, unsigned long p)
{
	struct uffdio_range range = {
		.start = (unsigned long)page(r, p), .len = r->psize,
	};
	static const int ok[] = { 0 };

	range_ioctl(r, UFFDIO_WAKE, &range, "UFFDIO_WAKE", ok, p);
}

static void writeprotect(struct run *r, unsigned long p, bool wp)
{
	struct uffdio_writeprotect w = {
		.range = { .start = (unsigned long)page(r, p), .len = r->psize },
		.mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};
	static const int ok[] = { 0 };

	range_ioctl(r, UFFDIO_WRITEPROTECT, &w, "UFFDIO_WRITEPROTECT", ok, p);
}

/* ---- the handler ---- */

static void serve_minor(struct run *r, unsigned long p)
{
	struct uffdio_continue c = {
		.range = { .start = (unsigned long)page(r, p), .len = r->psize },
		.mode = UFFDIO_CONTINUE_MODE_WP,
	};
	/* EEXIST: another fault mapped it; EFAULT: punched out meanwhile */
	static const int ok[] = { EEXIST, EFAULT, EAGAIN, 0 };

	if (range_ioctl(r, UFFDIO_CONTINUE, &c, "UFFDIO_CONTINUE|WP", ok, p))
		wake(r, p);
	count(r, OP_MINOR);
}

static void serve_missing(struct run *r, unsigned long p)
{
	struct uffdio_copy c = {
		.dst = (unsigned long)page(r, p), .src = (unsigned long)r->src,
		.len = r->psize, .mode = UFFDIO_COPY_MODE_WP,
	};
	static const int ok[] = { EEXIST, EAGAIN, 0 };

	*(volatile uint64_t *)r->src = (uint64_t)p << 32;
	if (range_ioctl(r, UFFDIO_COPY, &c, "UFFDIO_COPY|WP", ok, p))
		wake(r, p);
	count(r, OP_MISSING);
}

static void *server(void *arg)
{
	struct run *r = arg;
	struct pollfd pfd = { .fd = r->uffd, .events = POLLIN };
	struct uffd_msg msg;

	while (!r->stop_server) {
		unsigned long p;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (read(r->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT) {
			violation(r, "unexpected event 0x%x", msg.event);
			continue;
		}
		p = page_of(r, msg.arg.pagefault.address);
		if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
			pthread_mutex_lock(&r->plock[p]);
			r->dirty[p] = 1;
			writeprotect(r, p, false);
			pthread_mutex_unlock(&r->plock[p]);
			count(r, OP_WP_FAULT);
		} else if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR) {
			serve_minor(r, p);
		} else {
			serve_missing(r, p);
		}
	}
	return NULL;
}

/* ---- the load ---- */

/* Word 0 of page @p: its number in the high half, or 0 (punched out). */
static void check_word(struct run *r, unsigned long p, uint64_t v)
{
	if (v && v >> 32 != p)
		violation(r, "page %lu holds 0x%llx, a word of page %llu", p,
			  (unsigned long long)v, (unsigned long long)(v >> 32));
}

static void *writer(void *arg)
{
	struct run *r = arg;
	unsigned int rs = seed ^ (unsigned int)(uintptr_t)&rs;
	uint32_t n = 0;

	while (!r->stop) {
		unsigned long p = rand_r(&rs) % r->npages;
		uint64_t *w = (uint64_t *)page(r, p);

		if (rand_r(&rs) % 4) {
			__atomic_store_n(w, (uint64_t)p << 32 | ++n,
					 __ATOMIC_RELAXED);
			count(r, OP_WRITE);
		} else {
			check_word(r, p, __atomic_load_n(w, __ATOMIC_RELAXED));
			count(r, OP_READ);
		}
	}
	return NULL;
}

/* A forked child reads a page and exits: 0 if its word is right. */
static void fork_one(struct run *r, unsigned long p)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		violation(r, "fork: %s", strerror(errno));
		return;
	}
	if (!pid) {
		uint64_t v = *(volatile uint64_t *)page(r, p);

		_exit(v && v >> 32 != p ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		violation(r, "forked child reading page %lu: status 0x%x", p,
			  status);
	count(r, OP_FORK);
}

static void *racer(void *arg)
{
	struct run *r = arg;
	unsigned int rs = seed * 7919;

	while (!r->stop) {
		unsigned long p = rand_r(&rs) % r->npages;

		switch (rand_r(&rs) % 8) {
		case 0: case 1: case 2:
			if (madvise(page(r, p), r->psize, MADV_DONTNEED))
				violation(r, "MADV_DONTNEED: %s", strerror(errno));
			count(r, OP_DONTNEED);
			break;
		case 3:
			if (r->memfd < 0)
				break;
			/* the contents change (to zeroes): that is dirty too */
			pthread_mutex_lock(&r->plock[p]);
			r->dirty[p] = 1;
			if (fallocate(r->memfd, FALLOC_FL_PUNCH_HOLE |
				      FALLOC_FL_KEEP_SIZE, p * r->psize, r->psize))
				violation(r, "PUNCH_HOLE: %s", strerror(errno));
			pthread_mutex_unlock(&r->plock[p]);
			count(r, OP_PUNCH);
			break;
		case 4: case 5:
			/* as the handler does, then protect again */
			pthread_mutex_lock(&r->plock[p]);
			r->dirty[p] = 1;
			writeprotect(r, p, false);
			pthread_mutex_unlock(&r->plock[p]);
			usleep(100);
			writeprotect(r, p, true);
			count(r, OP_UNPROTECT);
			break;
		default:
			fork_one(r, p);
			break;
		}
		usleep(rand_r(&rs) % 500);
	}
	return NULL;
}

/*
 * Per page, under the page's lock: write-protect, read (through the
 * unregistered alias, which never faults to us), take the dirty bit.  The
 * handler sets the bit and unprotects under the same lock, so a write that
 * landed since the last collection did so while the page was unprotected
 * with its bit set, and one after the write-protection faults and lands
 * after the read.  A change without the bit is a write the kernel let
 * through a write-protected page: lost to the tracker.
 */
static void *collector(void *arg)
{
	struct run *r = arg;

	while (!r->stop) {
		unsigned long p;

		for (p = 0; p < r->npages && !r->stop; p++) {
			uint64_t v;
			bool dirty;

			pthread_mutex_lock(&r->plock[p]);
			writeprotect(r, p, true);
			v = *(volatile uint64_t *)(r->alias + p * r->psize);
			dirty = r->dirty[p];
			r->dirty[p] = 0;
			pthread_mutex_unlock(&r->plock[p]);
			if (v != r->seen[p] && !dirty)
				violation(r, "lost write: page %lu went from 0x%llx to 0x%llx, no WP fault",
					  p, (unsigned long long)r->seen[p],
					  (unsigned long long)v);
			r->seen[p] = v;
		}
		count(r, OP_COLLECT);
	}
	return NULL;
}

/* ---- set-up ---- */


static int setup(struct run *r)
{
	const struct scenario *sc = r->sc;
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	size_t size;
	unsigned long p;

	r->psize = sc->huge ? meminfo_value("Hugepagesize") * 1024 : getpagesize();
	r->npages = sc->huge ? NR_PAGES_HUGE : NR_PAGES_SHMEM;
	size = r->npages * r->psize;
	if (sc->huge && (!r->psize ||
	    meminfo_value("HugePages_Free") - meminfo_value("HugePages_Rsvd") <
	    (sc->shared ? 1 : 2) * r->npages + 8))
		return -ENOMEM;
	r->dirty = calloc(r->npages, 1);
	r->seen = calloc(r->npages, sizeof(*r->seen));
	r->plock = calloc(r->npages, sizeof(*r->plock));
	pthread_mutex_init(&r->lock, NULL);
	for (p = 0; p < r->npages; p++)
		pthread_mutex_init(&r->plock[p], NULL);

	r->memfd = -1;
	if (sc->copy) {
		r->area = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			       MAP_NORESERVE, -1, 0);
		r->src = aligned_alloc(getpagesize(), r->psize);
		if (r->area == MAP_FAILED || !r->src)
			return -errno;
		memset(r->src, 0, r->psize);
	} else {
		char *alias;

		r->alias = NULL;
		r->memfd = memfd_create(sc->name, MFD_CLOEXEC |
						  (sc->huge ? MFD_HUGETLB : 0));
		if (r->memfd < 0 || ftruncate(r->memfd, size))
			return -errno;
		alias = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			     r->memfd, 0);
		if (alias == MAP_FAILED)
			return -errno;
		for (p = 0; p < r->npages; p++)
			*(uint64_t *)(alias + p * r->psize) = (uint64_t)p << 32;
		r->alias = alias;
		r->area = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       sc->shared ? MAP_SHARED : MAP_PRIVATE,
			       r->memfd, 0);
		if (r->area == MAP_FAILED)
			return -errno;
		for (p = 0; p < r->npages; p++)
			r->seen[p] = (uint64_t)p << 32;
	}

	r->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (r->uffd < 0)
		return -errno;
	api.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP |
		       UFFD_FEATURE_WP_HUGETLBFS_SHMEM |
		       (sc->copy ? UFFD_FEATURE_MISSING_HUGETLBFS :
			sc->huge ? UFFD_FEATURE_MINOR_HUGETLBFS :
				   UFFD_FEATURE_MINOR_SHMEM);
	if (ioctl(r->uffd, UFFDIO_API, &api))
		return -errno;
	reg.range.start = (unsigned long)r->area;
	reg.range.len = size;
	reg.mode = UFFDIO_REGISTER_MODE_WP | (sc->copy ?
		   UFFDIO_REGISTER_MODE_MISSING : UFFDIO_REGISTER_MODE_MINOR);
	if (ioctl(r->uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	return 0;
}

/* Join @t within 10 s of the end, or report a fault left unresolved. */
static void finish(struct run *r, pthread_t t, const char *who)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	if (pthread_timedjoin_np(t, NULL, &deadline)) {
		violation(r, "%s did not finish within 10 s of the end: a fault left unresolved?",
			  who);
		printf("not ok %u %s\n", test_nr, r->sc->name);
		exit(1);
	}
}

/* Run one scenario for @ms; false on a violation. */
static bool run_scenario(const struct scenario *sc, uint64_t ms)
{
	struct run *r = calloc(1, sizeof(*r));
	pthread_t srv, w[NR_WRITERS], rc, col;
	uint64_t t0 = now_ms();
	bool tracked = sc->shared;
	unsigned int i;
	int ret;

	r->sc = sc;
	ret = setup(r);
	if (ret) {
		printf("# %s: set-up: %s\n", sc->name, strerror(-ret));
		printf("not ok %u %s\n", test_nr, sc->name);
		return false;
	}
	pthread_create(&srv, NULL, server, r);
	for (i = 0; i < NR_WRITERS; i++)
		pthread_create(&w[i], NULL, writer, r);
	pthread_create(&rc, NULL, racer, r);
	if (tracked)
		pthread_create(&col, NULL, collector, r);

	while (now_ms() < t0 + ms)
		usleep(100000);
	r->stop = true;
	/* every access must finish: none may be left waiting on a fault */
	for (i = 0; i < NR_WRITERS; i++)
		finish(r, w[i], "a writer");
	finish(r, rc, "the racer");
	if (tracked)
		finish(r, col, "the collector");
	r->stop_server = true;
	pthread_join(srv, NULL);

	printf("# %s: %.1f s,", sc->name, (now_ms() - t0) / 1000.0);
	for (i = 0; i < NR_OPS; i++)
		if (r->ops[i])
			printf(" %s %lu", op_name[i], r->ops[i]);
	printf(", violations %lu\n", r->violations);
	printf("%sok %u %s\n", r->violations ? "not " : "", test_nr, sc->name);
	ret = !r->violations;
	close(r->uffd);
	munmap(r->area, r->npages * r->psize);
	if (r->alias)
		munmap(r->alias, r->npages * r->psize);
	if (r->memfd >= 0)
		close(r->memfd);
	free(r->src);
	free(r->dirty);
	free(r->seen);
	free(r->plock);
	free(r);
	return ret;
}


int main(int argc, char **argv)
{
	const struct scenario *chosen[16];
	unsigned int n = 0, i, failed = 0, secs = cmdline_secs(30);
	int opt;

	while ((opt = getopt(argc, argv, "t:s:")) != -1) {
		switch (opt) {
		case 't':
			secs = strtoul(optarg, NULL, 10);
			break;
		case 's':
			seed = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: uffd-stress [-t SECONDS] [-s SEED] [SCENARIO...]\n");
			return 2;
		}
	}
	for (; optind < argc && n < 16; optind++) {
		for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			if (!strcmp(argv[optind], scenarios[i].name))
				break;
		if (i == sizeof(scenarios) / sizeof(scenarios[0])) {
			fprintf(stderr, "uffd-stress: no scenario '%s'\n", argv[optind]);
			return 2;
		}
		chosen[n++] = &scenarios[i];
	}
	if (!n)
		for (; n < sizeof(scenarios) / sizeof(scenarios[0]); n++)
			chosen[n] = &scenarios[n];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%u\n", n);
	printf("# uffd-stress -t %u -s %u: %u scenario(s), %u s each\n", secs,
	       seed, n, secs / n);
	for (i = 0; i < n; i++) {
		test_nr = i + 1;
		failed += !run_scenario(chosen[i], secs * 1000ULL / n);
	}
	return failed ? 1 : 0;
}
