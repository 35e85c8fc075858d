// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-postcopy-demo - why post-copy migration needs UFFDIO_CONTINUE_MODE_WP
 *
 * Models a VMM on the destination of a post-copy live migration whose guest
 * memory is a shmem or hugetlbfs memfd.  The memfd is mapped twice: the
 * "guest" mapping, registered with userfaultfd MINOR|WP, and an unregistered
 * "alias" through which the VMM fills pages.  The page cache is populated up
 * front (fallocate) but the guest mapping starts with no PTEs, so the first
 * guest access to every page is a MINOR fault.  The handler thread serves it
 * by copying the page from the "source image" (generated from the seed)
 * through the alias and mapping it; from then on every guest write must be
 * tracked: a WP fault records the page dirty and UFFDIO_WRITEPROTECT mode 0
 * lets the write proceed.
 *
 * The same workload runs with three ways of mapping the page protected:
 *
 *   one-step  UFFDIO_CONTINUE with UFFDIO_CONTINUE_MODE_WP: the PTE is
 *             installed write-protected under the page table lock.
 *   two-step  UFFDIO_CONTINUE, then UFFDIO_WRITEPROTECT, as on Linux 6.1.
 *             CONTINUE wakes the threads blocked on the fault, and the PTE
 *             is writable until WRITEPROTECT: writes made in between are
 *             never reported.
 *   two-step with DONTWAKE: the most careful use of 6.1's ioctls.
 *             CONTINUE(MODE_DONTWAKE), WRITEPROTECT, then UFFDIO_WAKE, so the
 *             threads blocked on the fault resume only once the page is
 *             protected.  A thread that reaches the page between the two
 *             ioctls without faulting still writes unseen.
 *
 * Guest threads follow one seeded sequence of page visits, so they crowd
 * onto each page as it is faulted in, with a seeded amount of computation
 * between two accesses.  A thread writes (thread id, sequence number) at its
 * own offset in the page and records what it wrote where and when.  At the
 * end the migration is completed (pages never touched are copied in) and
 * checked against that ground truth: every page the guest wrote must be in
 * the dirty set, and every page must hold the source image except for the
 * last value each thread wrote into it.
 *
 * Build: gcc -static -O2 -Wall -Wextra -isystem HDRS/include \
 *            uffd-postcopy-demo.c -lpthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/userfaultfd.h>

#ifndef UFFDIO_CONTINUE_MODE_WP
#define UFFDIO_CONTINUE_MODE_WP		((__u64)1<<1)
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB			0x0004U
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB			(21U << 26)
#endif

#define HPAGE_SIZE		(2UL << 20)
#define MAX_THREADS		64
#define SLOT_STRIDE		64	/* bytes of a page reserved per thread */
#define POLL_MS			50	/* every wait on the uffd is bounded */
#define MSG_BATCH		32
#define VAL_MAGIC		0xd1e7000000000000ULL

/* the workload: see make_sequence() and guest_main() */
#define VISITS_PER_PAGE		4	/* default --ops is this * pages */
#define RECENT_PAGES		16	/* revisits go to the last N pages */
#define WRITE_PCT_NEW		25	/* a thread's first visit of a page */
#define WRITE_PCT_REVISIT	1	/* later visits */
#define WORK_SHIFT		14	/* up to 2^14 steps between accesses */
#define SEQ_NEW			0x80000000U

#define EXIT_VERIFY		1
#define EXIT_USAGE		2
#define EXIT_SETUP		3

enum mem_type { MEM_SHMEM, MEM_HUGETLB, NR_MEM };
enum strategy { ONE_STEP, TWO_STEP, TWO_STEP_DONTWAKE, NR_STRATEGY };

static const char *const mem_name[NR_MEM] = { "shmem", "hugetlb" };
static const size_t mem_default[NR_MEM] = { 4UL << 20, 64UL << 20 };
static const char *const strategy_name[NR_STRATEGY] = {
	"one-step CONTINUE(WP)",
	"two-step CONTINUE, WRITEPROTECT",
	"two-step with DONTWAKE + WAKE",
};

static const char *const strategy_short[NR_STRATEGY] = {
	"one-step", "two-step", "DONTWAKE",
};

static struct {
	size_t mem;		/* 0: mem_default[] */
	int threads;
	int rounds;
	long ops;		/* 0: VISITS_PER_PAGE per page */
	unsigned int types;
	uint64_t seed;
	long window_us;
	int timeout;
	bool verbose;
} opt = {
	.threads = 4,
	.rounds = 2,
	.types = (1U << MEM_SHMEM) | (1U << MEM_HUGETLB),
	.seed = 1,
	.timeout = 60,
};

/* ---------------------------------------------------------------- util */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t mix3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t s = a ^ (b * 0xd6e8feb86659fd93ULL) ^
		     (c * 0xa0761d6478bd642fULL);

	return splitmix64(&s);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "uffd-postcopy-demo: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_SETUP);
}

static void on_alarm(int sig)
{
	static const char msg[] =
		"\nuffd-postcopy-demo: a round did not finish, giving up (see --timeout)\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(EXIT_SETUP);
	_exit(EXIT_SETUP);
}

/* ---------------------------------------------------------------- a run */

struct page_state {
	uint64_t t_continue;	/* UFFDIO_CONTINUE is about to be called */
	uint64_t t_protected;	/* the page is mapped and write-protected */
	bool resolved;		/* mapped into the guest */
	bool dirty;		/* the dirty set */
};

struct truth {
	uint32_t last_seq;	/* 0: this thread never wrote this page */
	uint64_t t_first;	/* its first write here had landed by then */
};

struct run {
	enum mem_type mt;
	enum strategy st;
	int round;
	size_t psize, npages;
	int memfd, uffd;
	char *guest, *alias;
	const char *src;	/* the source image */
	uint32_t *seq;		/* page visits, shared by all guest threads */
	long nseq;
	struct page_state *ps;	/* written by the handler thread only */
	struct truth *truth;	/* [page][thread], each thread its own */
	pthread_barrier_t start;
	atomic_int guests_done;
	atomic_bool stop_guests, stop_handler;
	atomic_ulong guest_bad_reads;
	unsigned long minor, wp, errors;
	char first_error[160];
};

struct guest_arg {
	struct run *r;
	int tid;
};

struct result {
	bool ran;
	unsigned long faulted, written, dirty, missed, bad_pages, bad_reads;
	unsigned long minor, wp, errors, in_window;
	uint64_t wall_ns, window_ns, window_max_ns;
	char example[240];
	char first_error[160];
};

static size_t slot_off(size_t page, int tid)
{
	return (size_t)tid * SLOT_STRIDE + (page % (SLOT_STRIDE / 8)) * 8;
}

static uint64_t slot_val(int tid, uint32_t seq)
{
	return VAL_MAGIC | (uint64_t)tid << 32 | seq;
}

static void run_error(struct run *r, const char *what, size_t page, int err)
{
	if (!r->errors++)
		snprintf(r->first_error, sizeof(r->first_error),
			 "%s on page %zu: %s", what, page, strerror(err));
}

static int uffd_continue(struct run *r, size_t page, __u64 mode)
{
	struct uffdio_continue c = {
		.range = {
			.start = (unsigned long)(r->guest + page * r->psize),
			.len = r->psize,
		},
		.mode = mode,
	};
	int tries = 0;

	while (ioctl(r->uffd, UFFDIO_CONTINUE, &c)) {
		if (errno == EAGAIN && ++tries < 100)
			continue;
		return -errno;
	}
	return 0;
}

static int uffd_writeprotect(struct run *r, size_t page, bool wp)
{
	struct uffdio_writeprotect w = {
		.range = {
			.start = (unsigned long)(r->guest + page * r->psize),
			.len = r->psize,
		},
		.mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};
	int tries = 0;

	while (ioctl(r->uffd, UFFDIO_WRITEPROTECT, &w)) {
		if (errno == EAGAIN && ++tries < 100)
			continue;
		return -errno;
	}
	return 0;
}

static int uffd_wake(struct run *r, size_t page)
{
	struct uffdio_range w = {
		.start = (unsigned long)(r->guest + page * r->psize),
		.len = r->psize,
	};

	return ioctl(r->uffd, UFFDIO_WAKE, &w) ? -errno : 0;
}

/* A MINOR fault: the page is in the page cache but not mapped yet. */
static void serve_minor(struct run *r, size_t page)
{
	struct page_state *p = &r->ps[page];
	int err;

	r->minor++;
	if (p->resolved) {
		/* another thread faulted on it before it was mapped */
		err = uffd_wake(r, page);
		if (err)
			run_error(r, "UFFDIO_WAKE", page, -err);
		return;
	}
	/* "receive" the page from the source, fill it through the alias */
	memcpy(r->alias + page * r->psize, r->src + page * r->psize, r->psize);

	p->t_continue = now_ns();
	if (r->st == ONE_STEP) {
		err = uffd_continue(r, page, UFFDIO_CONTINUE_MODE_WP);
		if (err) {
			run_error(r, "UFFDIO_CONTINUE(MODE_WP)", page, -err);
			/* never leave the guest blocked: map it anyway */
			uffd_continue(r, page, 0);
		}
		p->t_protected = now_ns();
	} else {
		err = uffd_continue(r, page, r->st == TWO_STEP_DONTWAKE ?
				    UFFDIO_CONTINUE_MODE_DONTWAKE : 0);
		if (err)
			run_error(r, "UFFDIO_CONTINUE", page, -err);
		/* the window: the PTE is present and writable */
		if (opt.window_us)
			sleep_us(opt.window_us);
		err = uffd_writeprotect(r, page, true);
		if (err)
			run_error(r, "UFFDIO_WRITEPROTECT(MODE_WP)", page, -err);
		p->t_protected = now_ns();
		if (r->st == TWO_STEP_DONTWAKE) {
			err = uffd_wake(r, page);
			if (err)
				run_error(r, "UFFDIO_WAKE", page, -err);
		}
	}
	p->resolved = true;
}

/* A WP fault: the guest writes a write-protected page. */
static void serve_wp(struct run *r, size_t page)
{
	int err;

	r->wp++;
	r->ps[page].dirty = true;
	err = uffd_writeprotect(r, page, false);
	if (err)
		run_error(r, "UFFDIO_WRITEPROTECT(0)", page, -err);
}

static void *handler_main(void *arg)
{
	struct run *r = arg;
	struct uffd_msg msg[MSG_BATCH];
	struct pollfd pfd = { .fd = r->uffd, .events = POLLIN };
	ssize_t i, n;
	int ret;

	while (!atomic_load(&r->stop_handler)) {
		ret = poll(&pfd, 1, POLL_MS);
		if (ret == 0 || (ret < 0 && errno == EINTR))
			continue;
		if (ret < 0 || (pfd.revents & (POLLERR | POLLHUP))) {
			run_error(r, "poll(uffd)", 0, ret < 0 ? errno : EIO);
			break;
		}
		n = read(r->uffd, msg, sizeof(msg));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			run_error(r, "read(uffd)", 0, errno);
			break;
		}
		for (i = 0; i < n / (ssize_t)sizeof(msg[0]); i++) {
			unsigned long addr = msg[i].arg.pagefault.address;
			unsigned long flags = msg[i].arg.pagefault.flags;
			size_t page = (addr - (unsigned long)r->guest) / r->psize;

			if (msg[i].event != UFFD_EVENT_PAGEFAULT ||
			    addr < (unsigned long)r->guest ||
			    page >= r->npages)
				run_error(r, "unexpected uffd message", 0,
					  EPROTO);
			else if (flags & UFFD_PAGEFAULT_FLAG_WP)
				serve_wp(r, page);
			else if (flags & UFFD_PAGEFAULT_FLAG_MINOR)
				serve_minor(r, page);
			else
				run_error(r, "MISSING fault", page, EPROTO);
		}
	}
	return NULL;
}

/*
 * Guest computation between two memory accesses: a seeded, log-uniformly
 * distributed number of steps, so that the threads reach a page spread out
 * in time instead of all at once.
 */
static uint64_t guest_work(uint64_t x)
{
	unsigned long n = 1UL << (x % (WORK_SHIFT + 1));
	uint64_t s = x;

	n += (x >> 8) % n;
	while (n--)
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
	return s;
}

static void *guest_main(void *arg)
{
	struct guest_arg *ga = arg;
	struct run *r = ga->r;
	int tid = ga->tid, nt = opt.threads;
	uint64_t rng = mix3(opt.seed, 0x6775657374ULL + r->round, tid);
	size_t rbase = (size_t)nt * SLOT_STRIDE;
	size_t rwords = (r->psize - rbase) / 8;
	volatile uint64_t sink = 0;
	unsigned long bad = 0;
	uint32_t wseq = 0;
	long k;

	pthread_barrier_wait(&r->start);
	for (k = 0; k < r->nseq && !atomic_load(&r->stop_guests); k++) {
		size_t page = r->seq[k] & ~SEQ_NEW;
		char *p = r->guest + page * r->psize;
		uint64_t x = splitmix64(&rng);
		unsigned int wpct = r->seq[k] & SEQ_NEW ? WRITE_PCT_NEW :
							  WRITE_PCT_REVISIT;

		if (x % 100 < wpct) {
			struct truth *t = &r->truth[page * nt + tid];

			*(volatile uint64_t *)(p + slot_off(page, tid)) =
				slot_val(tid, ++wseq);
			if (!t->last_seq)
				t->t_first = now_ns();
			t->last_seq = wseq;
		} else {
			/* a read outside the slots sees the source image */
			size_t off = rbase + ((x >> 8) % rwords) * 8;

			if (*(volatile uint64_t *)(p + off) !=
			    *(const uint64_t *)(r->src + page * r->psize + off))
				bad++;
		}
		sink += guest_work(splitmix64(&rng));
	}
	if (bad)
		atomic_fetch_add(&r->guest_bad_reads, bad);
	atomic_fetch_add(&r->guests_done, 1);
	return NULL;
}

/*
 * The page visits shared by all threads: a seeded permutation of the pages,
 * each new page followed by revisits of the RECENT_PAGES last ones.
 */
static void make_sequence(struct run *r, long ops)
{
	uint64_t rng = mix3(opt.seed, 0x736571ULL, r->round);
	uint32_t *perm = malloc(r->npages * sizeof(*perm));
	long gap = ops / (long)r->npages, g, k = 0;
	size_t i, in = 0;

	r->nseq = ops;
	r->seq = malloc(ops * sizeof(*r->seq));
	if (!perm || !r->seq)
		die("out of memory");
	for (i = 0; i < r->npages; i++)
		perm[i] = i;
	for (i = r->npages - 1; i > 0; i--) {
		size_t j = splitmix64(&rng) % (i + 1);
		uint32_t t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	while (k < ops) {
		if (in < r->npages)
			r->seq[k++] = perm[in++] | SEQ_NEW;
		for (g = 1; g < (gap ? gap : 1) && k < ops; g++) {
			size_t recent = in < RECENT_PAGES ? in : RECENT_PAGES;

			r->seq[k++] = perm[in - 1 - splitmix64(&rng) % recent];
		}
	}
	free(perm);
}

static int open_uffd(unsigned long long *features)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	int fd, err;

	fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api)) {
		err = errno;
		close(fd);
		return -err;
	}
	if (features)
		*features = api.features;
	return fd;
}

/*
 * The guest memory: a memfd with its page cache populated, the registered
 * guest mapping and the alias.  Returns NULL, or what failed (errno set).
 */
static const char *setup_memory(struct run *r, size_t size)
{
	unsigned int flags = MFD_CLOEXEC;
	struct uffdio_register reg;
	__u64 need;

	if (r->mt == MEM_HUGETLB)
		flags |= MFD_HUGETLB | MFD_HUGE_2MB;
	r->memfd = memfd_create("guest-ram", flags);
	if (r->memfd < 0)
		return "memfd_create";
	if (ftruncate(r->memfd, size))
		return "ftruncate";
	/* every page is in the page cache, none is mapped by the guest */
	if (fallocate(r->memfd, 0, 0, size))
		return r->mt == MEM_HUGETLB ?
			"fallocate (too few huge pages in /proc/sys/vm/nr_hugepages?)" :
			"fallocate";
	r->guest = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			r->memfd, 0);
	if (r->guest == MAP_FAILED)
		return "mmap(guest)";
	r->alias = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			r->memfd, 0);
	if (r->alias == MAP_FAILED)
		return "mmap(alias)";
	r->uffd = open_uffd(NULL);
	if (r->uffd < 0) {
		errno = -r->uffd;
		return "userfaultfd";
	}
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (unsigned long)r->guest;
	reg.range.len = size;
	reg.mode = UFFDIO_REGISTER_MODE_MINOR | UFFDIO_REGISTER_MODE_WP;
	if (ioctl(r->uffd, UFFDIO_REGISTER, &reg))
		return "UFFDIO_REGISTER(MINOR|WP)";
	need = (1ULL << _UFFDIO_CONTINUE) | (1ULL << _UFFDIO_WRITEPROTECT) |
	       (1ULL << _UFFDIO_WAKE);
	if ((reg.ioctls & need) != need) {
		errno = ENOTSUP;
		return "UFFDIO_REGISTER(MINOR|WP) ioctls";
	}
	return NULL;
}

static void teardown_memory(struct run *r, size_t size)
{
	if (r->uffd >= 0)
		close(r->uffd);
	if (r->guest && r->guest != MAP_FAILED)
		munmap(r->guest, size);
	if (r->alias && r->alias != MAP_FAILED)
		munmap(r->alias, size);
	if (r->memfd >= 0)
		close(r->memfd);
}

/*
 * Does this kernel take UFFDIO_CONTINUE_MODE_WP?  0 yes, -EINVAL no, or
 * another error if the memory type itself cannot be used.
 */
static int probe_continue_wp(enum mem_type mt, size_t psize, const char **what)
{
	struct run r = {
		.mt = mt, .psize = psize, .npages = 1, .memfd = -1, .uffd = -1,
	};
	int err;

	errno = 0;
	*what = setup_memory(&r, psize);
	if (*what) {
		err = errno ? -errno : -EIO;
	} else {
		err = uffd_continue(&r, 0, UFFDIO_CONTINUE_MODE_WP);
		if (err)
			*what = "UFFDIO_CONTINUE(MODE_WP)";
	}
	teardown_memory(&r, psize);
	return err;
}

static bool wait_guests(struct run *r)
{
	uint64_t deadline = now_ns() + opt.timeout * 1000000000ULL;

	while (atomic_load(&r->guests_done) < opt.threads) {
		if (now_ns() > deadline)
			return false;
		sleep_us(1000);
	}
	return true;
}

/* Compare one page with the ground truth and account for it in @res. */
static void check_page(struct run *r, size_t page, struct result *res)
{
	const struct page_state *p = &r->ps[page];
	const uint64_t *have = (const uint64_t *)(r->alias + page * r->psize);
	const uint64_t *src = (const uint64_t *)(r->src + page * r->psize);
	const struct truth *t = &r->truth[page * opt.threads];
	size_t rbase = (size_t)opt.threads * SLOT_STRIDE, i;
	uint64_t first = UINT64_MAX;
	bool written = false, changed, bad;
	int tid, who = 0;

	/* outside the slots: the source image */
	changed = memcmp(have + rbase / 8, src + rbase / 8,
			 r->psize - rbase) != 0;
	bad = changed;
	/* the slots: the last value each thread wrote, or the source */
	for (i = 0; i < rbase / 8; i++) {
		uint64_t want = src[i];

		tid = i * 8 / SLOT_STRIDE;
		if (t[tid].last_seq && i * 8 == slot_off(page, tid))
			want = slot_val(tid, t[tid].last_seq);
		changed |= have[i] != src[i];
		bad |= have[i] != want;
	}
	for (tid = 0; tid < opt.threads; tid++) {
		if (!t[tid].last_seq)
			continue;
		written = true;
		if (t[tid].t_first < first) {
			first = t[tid].t_first;
			who = tid;
		}
	}

	res->bad_pages += bad;
	res->written += written;
	res->dirty += p->dirty;
	if (p->resolved) {
		uint64_t w = p->t_protected - p->t_continue;

		res->faulted++;
		res->window_ns += w;
		if (w > res->window_max_ns)
			res->window_max_ns = w;
		if (first < p->t_protected)
			res->in_window++;
	}
	if (!(written || changed) || p->dirty)
		return;
	res->missed++;
	if (!res->example[0] && p->resolved && written)
		snprintf(res->example, sizeof(res->example),
			 "page %zu: CONTINUE at 0, thread %d's write at +%.1f us, protected at +%.1f us",
			 page, who,
			 ((double)first - p->t_continue) / 1e3,
			 ((double)p->t_protected - p->t_continue) / 1e3);
}

static void run_round(enum mem_type mt, enum strategy st, int round,
		      const char *src, size_t psize, size_t npages, long ops,
		      struct result *res)
{
	struct run r = {
		.mt = mt, .st = st, .round = round, .psize = psize,
		.npages = npages, .memfd = -1, .uffd = -1, .src = src,
	};
	size_t size = psize * npages, page;
	struct guest_arg ga[MAX_THREADS];
	pthread_t gt[MAX_THREADS], ht;
	int nt = opt.threads, i;
	const char *what;
	uint64_t t0;

	what = setup_memory(&r, size);
	if (what)
		die("%s: %s: %s", mem_name[mt], what, strerror(errno));
	r.ps = calloc(npages, sizeof(*r.ps));
	r.truth = calloc(npages * nt, sizeof(*r.truth));
	if (!r.ps || !r.truth)
		die("out of memory");
	make_sequence(&r, ops);
	pthread_barrier_init(&r.start, NULL, nt + 1);

	/* the last resort if even the clean-up below gets stuck */
	alarm(opt.timeout + 30);
	if (pthread_create(&ht, NULL, handler_main, &r))
		die("pthread_create failed");
	for (i = 0; i < nt; i++) {
		ga[i].r = &r;
		ga[i].tid = i;
		if (pthread_create(&gt[i], NULL, guest_main, &ga[i]))
			die("pthread_create failed");
	}
	pthread_barrier_wait(&r.start);
	t0 = now_ns();
	if (!wait_guests(&r)) {
		if (!r.errors++)
			snprintf(r.first_error, sizeof(r.first_error),
				 "guest threads still blocked after %d s (--timeout): closed the uffd to release them",
				 opt.timeout);
		atomic_store(&r.stop_guests, true);
		atomic_store(&r.stop_handler, true);
		pthread_join(ht, NULL);
		/* closing the uffd wakes every blocked guest thread */
		close(r.uffd);
		r.uffd = -1;
	}
	res->wall_ns += now_ns() - t0;
	for (i = 0; i < nt; i++)
		pthread_join(gt[i], NULL);
	if (r.uffd >= 0) {
		atomic_store(&r.stop_handler, true);
		pthread_join(ht, NULL);
	}
	alarm(0);

	/* Finish the migration: pages the guest never touched arrive now. */
	for (page = 0; page < npages; page++)
		if (!r.ps[page].resolved)
			memcpy(r.alias + page * psize, src + page * psize, psize);

	res->ran = true;
	for (page = 0; page < npages; page++)
		check_page(&r, page, res);
	res->bad_reads += atomic_load(&r.guest_bad_reads);
	res->minor += r.minor;
	res->wp += r.wp;
	if (r.errors && !res->errors)
		snprintf(res->first_error, sizeof(res->first_error), "%s",
			 r.first_error);
	res->errors += r.errors;

	pthread_barrier_destroy(&r.start);
	teardown_memory(&r, size);
	free(r.seq);
	free(r.ps);
	free(r.truth);
}

static char *make_source_image(size_t size, size_t psize)
{
	char *src = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t page, i;

	if (src == MAP_FAILED)
		die("mmap(source image): %s", strerror(errno));
	for (page = 0; page < size / psize; page++) {
		uint64_t *w = (uint64_t *)(src + page * psize);
		uint64_t s = mix3(opt.seed, 0x696d616765ULL, page);

		for (i = 0; i < psize / 8; i++)
			w[i] = splitmix64(&s);
	}
	return src;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
	printf(
"Usage: uffd-postcopy-demo [options]\n"
"\n"
"Post-copy migration of shmem and hugetlbfs guest memory with userfaultfd\n"
"MINOR faults and dirty tracking: UFFDIO_CONTINUE with\n"
"UFFDIO_CONTINUE_MODE_WP (one step) against UFFDIO_CONTINUE followed by\n"
"UFFDIO_WRITEPROTECT (two steps, all that Linux 6.1 has).\n"
"\n"
"  -m, --mem SIZE       guest memory per memory type, a multiple of 2M;\n"
"                       K/M/G suffixes (default 4M shmem, 64M hugetlb)\n"
"  -t, --threads N      guest threads, 1-%d (default %d)\n"
"  -r, --rounds N       migrations per memory type and strategy (default %d)\n"
"  -o, --ops N          memory accesses per guest thread per round\n"
"                       (default %d per page)\n"
"  -T, --type TYPE      shmem, hugetlb or all (default all)\n"
"  -s, --seed N         seed of the source image and the workload (default %" PRIu64 ")\n"
"  -w, --window-us N    sleep N us between the two ioctls of the two-step\n"
"                       strategies, to widen their window (default 0)\n"
"      --timeout S      give up on a round after S seconds (default %d)\n"
"  -v, --verbose        fault counts and timings per strategy\n"
"  -h, --help           this text\n"
"\n"
"hugetlb needs free 2 MiB huge pages: echo 64 > /proc/sys/vm/nr_hugepages.\n"
"If the kernel rejects UFFDIO_CONTINUE_MODE_WP (EINVAL), the one-step strategy\n"
"is reported unsupported and the others still run.\n"
"\n"
"Exit status: 0 the one-step strategy missed no write (or the kernel lacks\n"
"it) and every page's contents are right; 1 otherwise; 2 bad usage; 3 the\n"
"demo could not run (setup error, timeout).\n",
	       MAX_THREADS, opt.threads, opt.rounds, VISITS_PER_PAGE,
	       opt.seed, opt.timeout);
}

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "uffd-postcopy-demo: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'uffd-postcopy-demo --help'.\n");
	exit(EXIT_USAGE);
}

static unsigned long long parse_num(const char *name, const char *s,
				    unsigned long long min,
				    unsigned long long max, bool size)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	if (*s < '0' || *s > '9')
		usage_error("%s: '%s' is not a number", name, s);
	v = strtoull(s, &end, 10);
	if (errno)
		usage_error("%s: '%s' is too large", name, s);
	if (size && *end) {
		switch (*end) {
		case 'k': case 'K':
			shift = 10;
			break;
		case 'm': case 'M':
			shift = 20;
			break;
		case 'g': case 'G':
			shift = 30;
			break;
		}
		if (shift) {
			end++;
			if (*end == 'i' && end[1] == 'B')
				end += 2;
			else if (*end == 'B')
				end++;
		}
		if (v > (ULLONG_MAX >> shift))
			usage_error("%s: '%s' is too large", name, s);
		v <<= shift;
	}
	if (*end)
		usage_error("%s: '%s' is not a %s", name, s,
			    size ? "size (e.g. 4M, 64M, 1G)" : "number");
	if (v < min || v > max)
		usage_error("%s: %s is out of range (%llu-%llu%s)", name, s,
			    size ? min >> 20 : min, size ? max >> 20 : max,
			    size ? " MiB" : "");
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mem",	required_argument, NULL, 'm' },
		{ "threads",	required_argument, NULL, 't' },
		{ "rounds",	required_argument, NULL, 'r' },
		{ "ops",	required_argument, NULL, 'o' },
		{ "type",	required_argument, NULL, 'T' },
		{ "seed",	required_argument, NULL, 's' },
		{ "window-us",	required_argument, NULL, 'w' },
		{ "timeout",	required_argument, NULL, 1 },
		{ "verbose",	no_argument,	   NULL, 'v' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:t:r:o:T:s:w:vh", lo,
				NULL)) != -1) {
		switch (c) {
		case 'm':
			opt.mem = parse_num("--mem", optarg, HPAGE_SIZE,
					    1ULL << 32, true);
			if (opt.mem % HPAGE_SIZE)
				usage_error("--mem: %s is not a multiple of 2 MiB",
					    optarg);
			break;
		case 't':
			opt.threads = parse_num("--threads", optarg, 1,
						MAX_THREADS, false);
			break;
		case 'r':
			opt.rounds = parse_num("--rounds", optarg, 1, 100000,
					       false);
			break;
		case 'o':
			opt.ops = parse_num("--ops", optarg, 1, 1ULL << 26,
					    false);
			break;
		case 'T':
			if (!strcmp(optarg, "shmem"))
				opt.types = 1U << MEM_SHMEM;
			else if (!strcmp(optarg, "hugetlb"))
				opt.types = 1U << MEM_HUGETLB;
			else if (!strcmp(optarg, "all"))
				opt.types = (1U << MEM_SHMEM) |
					    (1U << MEM_HUGETLB);
			else
				usage_error("--type: '%s' is not shmem, hugetlb or all",
					    optarg);
			break;
		case 's':
			opt.seed = parse_num("--seed", optarg, 0, ULLONG_MAX,
					     false);
			break;
		case 'w':
			opt.window_us = parse_num("--window-us", optarg, 0,
						  1000000, false);
			break;
		case 1:
			opt.timeout = parse_num("--timeout", optarg, 1, 3600,
						false);
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'h':
			usage();
			exit(0);
		case ':':
			usage_error("option '%s' needs a value",
				    argv[optind - 1]);
			break;
		default:
			if (optopt)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

/* Run every strategy on one memory type and print its table. */
static int demo_mem_type(enum mem_type mt, bool *failed,
			 unsigned long *two_step_missed)
{
	size_t psize = mt == MEM_HUGETLB ? HPAGE_SIZE :
			(size_t)sysconf(_SC_PAGESIZE);
	size_t mem = opt.mem ? opt.mem : mem_default[mt];
	size_t npages = mem / psize;
	long ops = opt.ops ? opt.ops : VISITS_PER_PAGE * (long)npages;
	unsigned long long features, need;
	struct result res[NR_STRATEGY];
	const char *what;
	int st, round, err, fd;
	char *src;

	printf("\n%s: %zu MiB = %zu page%s of %zu KiB, %ld accesses per thread per round\n",
	       mem_name[mt], mem >> 20, npages, npages == 1 ? "" : "s",
	       psize >> 10, ops);

	fd = open_uffd(&features);
	if (fd < 0) {
		printf("  cannot run: userfaultfd: %s\n", strerror(-fd));
		return -1;
	}
	close(fd);
	need = (mt == MEM_SHMEM ? UFFD_FEATURE_MINOR_SHMEM :
				  UFFD_FEATURE_MINOR_HUGETLBFS) |
	       UFFD_FEATURE_WP_HUGETLBFS_SHMEM;
	if ((features & need) != need) {
		printf("  cannot run: this kernel has no MINOR and WP userfaults on %s\n",
		       mem_name[mt]);
		return -1;
	}
	err = probe_continue_wp(mt, psize, &what);
	if (err && err != -EINVAL) {
		printf("  cannot run: %s: %s\n", what, strerror(-err));
		return -1;
	}

	memset(res, 0, sizeof(res));
	src = make_source_image(mem, psize);
	for (st = 0; st < NR_STRATEGY; st++) {
		if (st == ONE_STEP && err)
			continue;
		for (round = 0; round < opt.rounds; round++)
			run_round(mt, st, round, src, psize, npages, ops,
				  &res[st]);
	}
	munmap(src, mem);

	printf("  %-32s %7s %7s %7s %7s %5s %7s\n", "strategy", "faulted",
	       "written", "tracked", "MISSED", "bad", "wall");
	for (st = 0; st < NR_STRATEGY; st++) {
		const struct result *s = &res[st];

		if (!s->ran) {
			printf("  %-32s unsupported by this kernel (EINVAL)\n",
			       strategy_name[st]);
			continue;
		}
		printf("  %-32s %7lu %7lu %7lu %7lu %5lu %6.2fs\n",
		       strategy_name[st], s->faulted, s->written, s->dirty,
		       s->missed, s->bad_pages + s->bad_reads,
		       s->wall_ns / 1e9);
	}
	for (st = 0; st < NR_STRATEGY; st++) {
		const struct result *s = &res[st];

		if (!s->ran)
			continue;
		if (s->example[0])
			printf("  %s: e.g. %s\n", strategy_short[st],
			       s->example);
		if (opt.verbose)
			printf("  %s: %lu MINOR + %lu WP faults; CONTINUE..protected %.0f us avg, %.0f max; %lu pages first written before protected\n",
			       strategy_short[st], s->minor, s->wp,
			       s->faulted ? s->window_ns / 1e3 / s->faulted : 0,
			       s->window_max_ns / 1e3, s->in_window);
		if (s->bad_reads)
			printf("  %s: %lu guest reads saw wrong data\n",
			       strategy_short[st], s->bad_reads);
		if (s->errors)
			printf("  %s: %lu error%s, the first: %s\n",
			       strategy_short[st], s->errors,
			       s->errors == 1 ? "" : "s", s->first_error);
		if (s->bad_pages || s->bad_reads || s->errors)
			*failed = true;
		if (st != ONE_STEP)
			*two_step_missed += s->missed;
	}
	if (res[ONE_STEP].missed)
		*failed = true;
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long two_step_missed = 0;
	bool failed = false, incomplete = false, unsupported = false;
	struct utsname uts;
	uint64_t t0 = now_ns();
	int mt, ret;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	if (uname(&uts))
		strcpy(uts.release, "?");

	printf("uffd-postcopy-demo: Linux %s, %ld CPUs, %d guest threads, %d round%s, seed %" PRIu64 "\n",
	       uts.release, sysconf(_SC_NPROCESSORS_ONLN), opt.threads,
	       opt.rounds, opt.rounds == 1 ? "" : "s", opt.seed);
	if (opt.window_us)
		printf("NOTE: --window-us %ld: the two-step handlers sleep %ld us between their two ioctls\n",
		       opt.window_us, opt.window_us);

	for (mt = 0; mt < NR_MEM; mt++) {
		if (!(opt.types & (1U << mt)))
			continue;
		ret = demo_mem_type(mt, &failed, &two_step_missed);
		if (ret < 0)
			incomplete = true;
		else if (ret > 0)
			unsupported = true;
	}

	printf("\nfaulted: pages mapped by a MINOR fault; written: pages the guest wrote (ground\n"
	       "truth); tracked: the dirty set; MISSED: written, not tracked; bad: wrong contents\n"
	       "at the end, or a guest read that saw wrong data; wall: guest run time.\n");
	printf("Total %.1f s.  ", (now_ns() - t0) / 1e9);
	if (failed) {
		printf("RESULT: FAIL\n");
		return EXIT_VERIFY;
	}
	if (incomplete) {
		printf("RESULT: could not run everything\n");
		return EXIT_SETUP;
	}
	printf("RESULT: PASS: %s; the two-step strategies missed %lu written page%s\n",
	       unsupported ? "UFFDIO_CONTINUE_MODE_WP unsupported by this kernel" :
			     "one-step tracked every write",
	       two_step_missed, two_step_missed == 1 ? "" : "s");
	return 0;
}
