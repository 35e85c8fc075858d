// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-bench: what one-step write tracking (UFFDIO_CONTINUE_MODE_WP) costs,
 * side by side with a plain UFFDIO_CONTINUE and with the only way a kernel
 * without the mode has, UFFDIO_CONTINUE then UFFDIO_WRITEPROTECT, on shmem
 * (4 KiB pages) and hugetlbfs (the default huge page size), shared mappings.
 *
 *   uffd-bench [-q]     -q: one round of the smallest sizes, so that
 *                       make check runs it and it cannot rot
 *
 * Strategies: "plain" (CONTINUE), "one" (CONTINUE|WP), "two" (CONTINUE then
 * WRITEPROTECT).  Measurements, each for each memory type:
 *   ioctl     ns per page of the resolving ioctls alone, no faults: pages in
 *             the page cache, a fresh MINOR|WP registered mapping per round
 *             and strategy, BATCH pages per ioctl; the strategies take turns
 *             within a round, and the ratios one/plain and two/one are taken
 *             per round
 *   fault     ns from a thread's first read of an unmapped page until the
 *             read returns, a handler thread resolving the minor fault
 *   wp-fault  ns of the first write to a page mapped write-protected, the
 *             handler resolving the WP fault with WRITEPROTECT(mode 0)
 *   scaling   the fault round trip of the write-tracking strategy with 1, 2
 *             and 4 faulting threads against one handler
 * The output is TAP: each group is a result line, its figures the
 * "# csv: MEMORY,TEST,STRATEGY,BATCH,THREADS,STAT,VALUE" lines before it
 * (STAT: median, p10, p90, p99, n, per_sec, and eexist: faults whose
 * resolution found the page already mapped, taken as resolved).  A group
 * fails if any ioctl fails or a page ends with the wrong pagemap bits
 * (present, uffd-wp), so a fast wrong kernel cannot look good.  Where the
 * kernel lacks the mode (the probe: CONTINUE|WP on an unregistered range
 * gives -EINVAL, not -ENOENT) "one" is skipped and write tracking uses
 * "two".  With "two" the faulting thread resumes after the CONTINUE,
 * before the WRITEPROTECT: the window the mode closes.
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

#include "guest-util.h"

#define PM_UFFD_WP	(1ULL << 57)
#define PM_PRESENT	(1ULL << 63)
#define MAX_THREADS	4

enum strategy { PLAIN, ONE, TWO, NR_STRATEGIES };
static const char * const strategy_name[] = { "plain", "one", "two" };

struct mem {
	const char *name;
	bool huge;
	size_t psize;
	unsigned long npages;	/* pages in the file */
	int memfd;
	char *alias;		/* MAP_SHARED, never registered */
	const unsigned long *batches;
	unsigned int nbatches;
};

struct area {
	struct mem *m;
	char *addr;
	int uffd;
};

static bool has_mode_wp;
static bool quick;
static int pagemap_fd;
static unsigned int test_nr;
static int failures;
static volatile char sink;	/* where the timed reads go */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The @p-th percentile of @n sorted values (nearest rank below). */
static double pct(const double *v, size_t n, unsigned int p)
{
	return v[(n - 1) * p / 100];
}

static void csv(const struct mem *m, const char *test, const char *strategy,
		unsigned long batch, unsigned int threads, const char *stat,
		double value)
{
	printf("# csv: %s,%s,%s,%lu,%u,%s,%.4f\n", m->name, test, strategy,
	       batch, threads, stat, value);
}

/* Sort @v and print its median, p10, p90, p99 and count. */
static void csv_stats(const struct mem *m, const char *test,
		      const char *strategy, unsigned long batch,
		      unsigned int threads, double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	csv(m, test, strategy, batch, threads, "median", pct(v, n, 50));
	csv(m, test, strategy, batch, threads, "p10", pct(v, n, 10));
	csv(m, test, strategy, batch, threads, "p90", pct(v, n, 90));
	csv(m, test, strategy, batch, threads, "p99", pct(v, n, 99));
	csv(m, test, strategy, batch, threads, "n", n);
}

static void result(bool ok, const char *mem, const char *what)
{
	test_nr++;
	printf("%sok %u %s %s\n", ok ? "" : "not ", test_nr, mem, what);
	if (!ok)
		failures++;
}

#define complain(...) do {						\
	printf("# " __VA_ARGS__);					\
	printf("\n");							\
} while (0)

/* ---- the mapping and the ioctls ---- */

static int uffd_new(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -1;
	api.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP |
		       UFFD_FEATURE_WP_HUGETLBFS_SHMEM |
		       UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_MINOR_HUGETLBFS;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A fresh MAP_SHARED mapping of @m's file, registered MINOR|WP. */
static bool area_open(struct area *a, struct mem *m)
{
	struct uffdio_register reg = {
		.mode = UFFDIO_REGISTER_MODE_MINOR | UFFDIO_REGISTER_MODE_WP,
	};

	a->m = m;
	a->addr = mmap(NULL, m->npages * m->psize, PROT_READ | PROT_WRITE,
		       MAP_SHARED, m->memfd, 0);
	if (a->addr == MAP_FAILED) {
		complain("mmap: %s", strerror(errno));
		return false;
	}
	a->uffd = uffd_new();
	if (a->uffd < 0) {
		complain("userfaultfd: %s", strerror(errno));
		return false;
	}
	reg.range.start = (unsigned long)a->addr;
	reg.range.len = m->npages * m->psize;
	if (ioctl(a->uffd, UFFDIO_REGISTER, &reg)) {
		complain("UFFDIO_REGISTER: %s", strerror(errno));
		return false;
	}
	return true;
}

static void area_close(struct area *a)
{
	close(a->uffd);
	munmap(a->addr, a->m->npages * a->m->psize);
}

static int uffd_continue(int uffd, char *start, size_t len, __u64 mode)
{
	struct uffdio_continue c = {
		.range = { .start = (unsigned long)start, .len = len },
		.mode = mode,
	};

	return ioctl(uffd, UFFDIO_CONTINUE, &c) ? -errno : 0;
}

static int uffd_wp(int uffd, char *start, size_t len, bool wp)
{
	struct uffdio_writeprotect w = {
		.range = { .start = (unsigned long)start, .len = len },
		.mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &w) ? -errno : 0;
}

/* Map @len bytes at @start the way @s does; 0 or -errno. */
static int resolve(int uffd, enum strategy s, char *start, size_t len)
{
	int ret;

	switch (s) {
	case PLAIN:
		return uffd_continue(uffd, start, len, 0);
	case ONE:
		return uffd_continue(uffd, start, len, UFFDIO_CONTINUE_MODE_WP);
	case TWO:
		ret = uffd_continue(uffd, start, len, 0);
		return ret ? ret : uffd_wp(uffd, start, len, true);
	default:
		return -EINVAL;
	}
}

/* Every page of @a is present, write-protected iff @wp. */
static bool verify(struct area *a, bool wp)
{
	unsigned long i;

	for (i = 0; i < a->m->npages; i++) {
		unsigned long addr = (unsigned long)a->addr + i * a->m->psize;
		uint64_t ent;

		if (pread(pagemap_fd, &ent, sizeof(ent),
			  addr / getpagesize() * sizeof(ent)) != sizeof(ent)) {
			complain("pagemap: %s", strerror(errno));
			return false;
		}
		if (!(ent & PM_PRESENT) || !!(ent & PM_UFFD_WP) != wp) {
			complain("%s page %lu: present %d uffd-wp %d, want 1 %d",
				 a->m->name, i, !!(ent & PM_PRESENT),
				 !!(ent & PM_UFFD_WP), wp);
			return false;
		}
	}
	return true;
}

static bool usable(enum strategy s)
{
	return s != ONE || has_mode_wp;
}

/* ---- ioctl cost per page, no faults ---- */

/* ns per page of mapping all of a fresh area with @s, @batch pages a call. */
static double ioctl_round(struct mem *m, enum strategy s, unsigned long batch,
			  bool *ok)
{
	size_t len = batch * m->psize;
	struct area a;
	uint64_t t0, t1;
	unsigned long i;
	int ret = 0;

	if (!area_open(&a, m)) {
		*ok = false;
		return 0;
	}
	t0 = now_ns();
	for (i = 0; i < m->npages && !ret; i += batch)
		ret = resolve(a.uffd, s, a.addr + i * m->psize, len);
	t1 = now_ns();
	if (ret) {
		complain("%s %s batch %lu: %s", m->name, strategy_name[s], batch,
			 strerror(-ret));
		*ok = false;
	} else if (!verify(&a, s != PLAIN)) {
		*ok = false;
	}
	area_close(&a);
	return (double)(t1 - t0) / m->npages;
}

static void bench_ioctl(struct mem *m)
{
	unsigned int rounds = quick ? 1 : 31, warmup = quick ? 0 : 3;
	double *ns[NR_STRATEGIES], *one_plain, *two_one;
	unsigned int b, r, k;
	char what[64];

	for (k = 0; k < NR_STRATEGIES; k++)
		ns[k] = calloc(rounds, sizeof(double));
	one_plain = calloc(rounds, sizeof(double));
	two_one = calloc(rounds, sizeof(double));

	for (b = 0; b < m->nbatches; b++) {
		unsigned long batch = m->batches[b];
		bool ok = true;

		for (r = 0; r < warmup + rounds; r++) {
			double t[NR_STRATEGIES] = { 0 };

			/* take turns, so drift weighs on all alike */
			for (k = 0; k < NR_STRATEGIES; k++) {
				enum strategy s = (r + k) % NR_STRATEGIES;

				if (usable(s))
					t[s] = ioctl_round(m, s, batch, &ok);
			}
			if (r < warmup)
				continue;
			for (k = 0; k < NR_STRATEGIES; k++)
				ns[k][r - warmup] = t[k];
			one_plain[r - warmup] = t[ONE] / t[PLAIN];
			two_one[r - warmup] = t[TWO] / t[ONE];
		}
		for (k = 0; k < NR_STRATEGIES; k++)
			if (usable(k))
				csv_stats(m, "ioctl", strategy_name[k], batch, 1,
					  ns[k], rounds);
		if (has_mode_wp) {
			csv_stats(m, "ioctl-ratio", "one/plain", batch, 1,
				  one_plain, rounds);
			csv_stats(m, "ioctl-ratio", "two/one", batch, 1,
				  two_one, rounds);
		}
		snprintf(what, sizeof(what), "ioctl batch %lu", batch);
		result(ok, m->name, what);
	}
}

/* ---- fault round trips ---- */

struct server {
	struct area *a;
	enum strategy s;	/* how a minor fault is resolved */
	volatile bool stop;	/* the faulting threads are done */
	int err;		/* the first thing that went wrong */
	unsigned long eexist;	/* faults found already resolved */
	unsigned long long flags;	/* and the fault it was on */
};

static void wake_page(struct area *a, char *page)
{
	struct uffdio_range range = {
		.start = (unsigned long)page, .len = a->m->psize,
	};

	ioctl(a->uffd, UFFDIO_WAKE, &range);
}

/*
 * Serve faults until told to stop.  A failure is recorded and the faulting
 * thread woken, never left waiting; if no fault comes for 10 s while the
 * faulters still run, the area is unregistered, which lets them finish
 * (the round then fails), so a lost fault is a failure, not a hang.
 */
static void *serve(void *arg)
{
	struct server *sv = arg;
	struct area *a = sv->a;
	struct pollfd pfd = { .fd = a->uffd, .events = POLLIN };
	struct uffdio_range all = {
		.start = (unsigned long)a->addr, .len = a->m->npages * a->m->psize,
	};
	struct uffd_msg msg;
	int idle_ms = 0;

	while (!sv->stop) {
		char *page;
		int ret;

		ret = poll(&pfd, 1, 100);
		if (ret <= 0) {
			idle_ms += 100;
			if (idle_ms >= 10000 && !sv->err) {
				sv->err = ETIMEDOUT;
				ioctl(a->uffd, UFFDIO_UNREGISTER, &all);
			}
			continue;
		}
		idle_ms = 0;
		if (read(a->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT) {
			sv->err = sv->err ?: EPROTO;
			continue;
		}
		page = (char *)(unsigned long)(msg.arg.pagefault.address &
					       ~(a->m->psize - 1));
		if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)
			ret = uffd_wp(a->uffd, page, a->m->psize, false);
		else
			ret = resolve(a->uffd, sv->s, page, a->m->psize);
		/*
		 * A fault reported twice finds its page mapped: handlers take
		 * EEXIST as done and wake the thread (seen on 6.1 with the
		 * two-step strategy and 4 faulting threads).
		 */
		if (ret == -EEXIST) {
			sv->eexist++;
			ret = 0;
			wake_page(a, page);
		}
		if (ret) {
			if (!sv->err) {
				sv->err = -ret;
				sv->flags = msg.arg.pagefault.flags;
			}
			wake_page(a, page);
		}
	}
	return NULL;
}

struct faulter {
	struct area *a;
	unsigned long first, step;	/* pages first, first + step, ... */
	bool write;
	double *lat;
	size_t n;
};

static void *fault_pages(void *arg)
{
	struct faulter *f = arg;
	unsigned long i;

	for (i = f->first; i < f->a->m->npages; i += f->step) {
		char *p = f->a->addr + i * f->a->m->psize;
		uint64_t t0 = now_ns();

		if (f->write)
			__atomic_store_n(p, (char)i, __ATOMIC_RELAXED);
		else
			sink += *(volatile char *)p;
		f->lat[f->n++] = now_ns() - t0;
	}
	return NULL;
}

/*
 * Fault every page of a fresh area from @threads threads, a handler
 * resolving with @s; with @write, map the area write-protected first and
 * time the writes.  Appends the latencies to @lat (@n so far) and adds the
 * wall time in ns to @wall; false on failure.
 */
static bool fault_round(struct mem *m, enum strategy s, bool write,
			unsigned int threads, double *lat, size_t *n,
			uint64_t *wall, unsigned long *eexist)
{
	struct faulter f[MAX_THREADS];
	struct server sv = { .s = s };
	pthread_t th[MAX_THREADS], server;
	uint64_t t0, t1;
	struct area a;
	unsigned int i;
	bool ok;

	if (!area_open(&a, m))
		return false;
	sv.a = &a;
	if (write && resolve(a.uffd, s, a.addr, m->npages * m->psize)) {
		complain("%s: mapping write-protected: %s", m->name,
			 strerror(errno));
		area_close(&a);
		return false;
	}
	pthread_create(&server, NULL, serve, &sv);
	t0 = now_ns();
	for (i = 0; i < threads; i++) {
		f[i] = (struct faulter){ .a = &a, .first = i, .step = threads,
					 .write = write, .lat = lat + *n };
		*n += (m->npages - i + threads - 1) / threads;
		pthread_create(&th[i], NULL, fault_pages, &f[i]);
	}
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	t1 = now_ns();
	sv.stop = true;
	pthread_join(server, NULL);
	*eexist += sv.eexist;
	ok = !sv.err;
	if (sv.err)
		complain("%s %s handler: %s (fault flags 0x%llx)", m->name,
			 strategy_name[s], strerror(sv.err), sv.flags);
	else if (write)
		ok = verify(&a, false) && a.addr[m->psize] == 1;
	else
		ok = verify(&a, s != PLAIN);
	area_close(&a);
	*wall += t1 - t0;
	return ok;
}

/* TEST: "fault" (@write false) or "wp-fault"; "scaling" with @threads > 1. */
static void bench_faults(struct mem *m, const char *test, enum strategy s,
			 bool write, unsigned int threads)
{
	unsigned int rounds = quick ? 1 : 11, r;
	double *lat = calloc(rounds * m->npages, sizeof(double));
	unsigned long eexist = 0;
	uint64_t wall = 0;
	size_t n = 0;
	bool ok = true;
	char what[64];

	for (r = 0; r < rounds && ok; r++)
		ok = fault_round(m, s, write, threads, lat, &n, &wall, &eexist);
	if (ok) {
		csv_stats(m, test, strategy_name[s], 1, threads, lat, n);
		csv(m, test, strategy_name[s], 1, threads, "per_sec",
		    n * 1e9 / wall);
		csv(m, test, strategy_name[s], 1, threads, "eexist", eexist);
	}
	snprintf(what, sizeof(what), "%s %s threads %u", test,
		 strategy_name[s], threads);
	result(ok, m->name, what);
	free(lat);
}

/* ---- set-up ---- */


static bool mem_setup(struct mem *m)
{
	unsigned long i;

	if (m->huge) {
		m->psize = meminfo_value("Hugepagesize") * 1024;
		if (!m->psize || meminfo_value("HugePages_Free") -
				 meminfo_value("HugePages_Rsvd") < m->npages) {
			complain("%s: needs %lu free huge pages", m->name,
				 m->npages);
			return false;
		}
	} else {
		m->psize = getpagesize();
	}
	m->memfd = memfd_create(m->name, MFD_CLOEXEC |
					 (m->huge ? MFD_HUGETLB : 0));
	if (m->memfd < 0 || ftruncate(m->memfd, m->npages * m->psize)) {
		complain("%s: memfd: %s", m->name, strerror(errno));
		return false;
	}
	m->alias = mmap(NULL, m->npages * m->psize, PROT_READ | PROT_WRITE,
			MAP_SHARED, m->memfd, 0);
	if (m->alias == MAP_FAILED) {
		complain("%s: mmap: %s", m->name, strerror(errno));
		return false;
	}
	for (i = 0; i < m->npages; i++)
		memset(m->alias + i * m->psize, 0x5a, m->psize);
	return true;
}

/* CONTINUE|WP on an unregistered range: -ENOENT with the mode, else -EINVAL. */
static int probe(struct mem *m)
{
	struct area a = { .m = m, .addr = m->alias, .uffd = uffd_new() };
	int ret;

	if (a.uffd < 0)
		return -errno;
	ret = uffd_continue(a.uffd, a.addr, m->psize, UFFDIO_CONTINUE_MODE_WP);
	close(a.uffd);
	return ret;
}

/* The kernel's clocksource: "jiffies" ones make every figure coarse. */
static const char *clocksource(void)
{
	static char name[64] = "unknown";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");

	if (f) {
		if (fgets(name, sizeof(name), f))
			name[strcspn(name, "\n")] = 0;
		fclose(f);
	}
	return name;
}

int main(int argc, char **argv)
{
	static const unsigned long shmem_batches[] = { 1, 8, 64, 512 };
	static const unsigned long huge_batches[] = { 1, 8, 32 };
	static const unsigned long quick_batches[] = { 1 };
	struct mem mems[] = {
		{ .name = "shmem", .npages = 512,
		  .batches = shmem_batches, .nbatches = 4 },
		{ .name = "hugetlb", .huge = true, .npages = 32,
		  .batches = huge_batches, .nbatches = 3 },
	};
	unsigned int i, t;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	quick = argc > 1 && !strcmp(argv[1], "-q");
	if (argc > 2 || (argc == 2 && !quick)) {
		fprintf(stderr, "usage: uffd-bench [-q]\n");
		return 2;
	}
	printf("TAP version 13\n");
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap_fd < 0) {
		printf("Bail out! /proc/self/pagemap: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < 2; i++) {
		if (quick) {
			mems[i].npages = mems[i].huge ? 2 : 8;
			mems[i].batches = quick_batches;
			mems[i].nbatches = 1;
		}
		if (!mem_setup(&mems[i])) {
			printf("Bail out! %s: cannot set up the file\n",
			       mems[i].name);
			return 1;
		}
	}
	ret = probe(&mems[0]);
	if (ret != -ENOENT && ret != -EINVAL) {
		printf("Bail out! probe: CONTINUE|WP on an unregistered range: %s\n",
		       strerror(-ret));
		return 1;
	}
	has_mode_wp = ret == -ENOENT;
	printf("# mode: UFFDIO_CONTINUE_MODE_WP %s; quick %d; clocksource %s\n",
	       has_mode_wp ? "known" : "unknown (strategy 'one' skipped)",
	       quick, clocksource());

	for (i = 0; i < 2; i++) {
		struct mem *m = &mems[i];
		enum strategy track = has_mode_wp ? ONE : TWO;

		printf("# %s: %lu pages of %zu bytes\n", m->name, m->npages,
		       m->psize);
		bench_ioctl(m);
		for (t = 0; t < NR_STRATEGIES; t++)
			if (usable(t))
				bench_faults(m, "fault", t, false, 1);
		bench_faults(m, "wp-fault", track, true, 1);
		for (t = 1; t <= MAX_THREADS; t *= 2)
			bench_faults(m, "scaling", track, false, t);
	}
	printf("1..%u\n", test_nr);
	return failures ? 1 : 0;
}
