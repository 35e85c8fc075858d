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
 *   shmem-churn, hugetlb-churn
 *                    shmem and hugetlb, tracked, with UFFD_EVENT_FORK (the
 *                    handler closes each child's descriptor as it comes),
 *                    and a churner that changes the area itself: it
 *                    unregisters it, moves it away with mremap and back,
 *                    unmaps it and maps it again, or truncates the file to
 *                    half and back, then registers and write-protects it
 *                    again.  The tracking threads stand still meanwhile (a
 *                    read-write lock); a prober does not: its reads race
 *                    the churn, and the SIGSEGV or SIGBUS a read of the
 *                    moved or truncated area gets is counted, not fatal.
 * Against each, writers and readers on random pages and a racer doing, at
 * random, MADV_DONTNEED, fallocate(PUNCH_HOLE), UFFDIO_WRITEPROTECT off
 * and on, and fork() (the child reads a page and exits).
 *
 * Invariants: every ioctl returns 0 or an errno of its documented set;
 * word 0 of every page holds its page number in the high half (or 0, a
 * page punched out); no lost write in the tracked scenarios; every access
 * finishes (no fault left unresolved); in the churn scenarios, no page
 * keeps a uffd-wp bit (/proc/self/pagemap) after UFFDIO_UNREGISTER or
 * after mremap moved it out of the registration, and a truncated page
 * reads zero.  Prints what it did per scenario
 * (TAP, one result per scenario) and exits 1 on any violation.  A seed
 * replays the same random choices (the interleaving is the kernel's).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
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
	OP_MINOR, OP_MISSING, OP_WP_FAULT, OP_COLLECT, OP_FORK_EVENT,
	OP_PROBE, OP_PROBE_SIGNAL, OP_UNREGISTER, OP_MREMAP, OP_MUNMAP,
	OP_TRUNCATE, OP_EAGAIN, NR_OPS,
};
static const char * const op_name[] = {
	"writes", "reads", "dontneed", "punch", "wp-toggle", "fork",
	"minor-faults", "missing-faults", "wp-faults", "collections",
	"fork-events", "probes", "probe-signals", "unregister", "mremap",
	"munmap", "truncate", "eagain",
};

enum defer { DEFER_NONE, DEFER_MINOR, DEFER_WP };

struct scenario {
	const char *name;
	bool huge, shared, copy, churn;
};

static const struct scenario scenarios[] = {
	{ "shmem", false, true, false, false },
	{ "hugetlb", true, true, false, false },
	{ "shmem-private", false, false, false, false },
	{ "hugetlb-private", true, false, false, false },
	{ "hugetlb-copy", true, false, true, false },
	{ "shmem-churn", false, true, false, true },
	{ "hugetlb-churn", true, true, false, true },
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
	uint8_t *deferred;	/* per page, enum defer: the handler's only */
	unsigned long ndeferred;	/* the handler's: pages deferred */
	pthread_mutex_t *plock;	/* per page: dirty bit and protection change together */
	uint64_t *seen;		/* collector: word 0 at the last collection */
	/*
	 * Every access of the area but the prober's holds it shared; the
	 * churner changes the area holding it exclusive.  Writer-preferring:
	 * the churner is one thread against many readers.
	 */
	pthread_rwlock_t arealock;
	char *spare;		/* churn: where mremap moves the area to */
	char *spare_raw;	/* churn: the reservation @spare lies in */
	unsigned int truncations;	/* churn: odd while the file is short */
	unsigned int changes;	/* churn: odd while the churner changes the area */
	unsigned int forks;	/* odd while the racer forks */
	unsigned int nwriters;	/* writers started: each one's seed */
	int pagemap;		/* churn: /proc/self/pagemap */
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

static void __attribute__((format(printf, 2, 3)))
violation(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pthread_mutex_lock(&r->lock);
	if (r->violations++ < 20) {
		printf("# %s: VIOLATION: ", r->sc->name);
		vprintf(fmt, ap);
		printf("\n");
	}
	pthread_mutex_unlock(&r->lock);
	va_end(ap);
}

/* The scenario cannot go on: its TAP line, and the program ends. */
static void __attribute__((noreturn)) give_up(struct run *r)
{
	printf("not ok %u %s\n", test_nr, r->sc->name);
	exit(1);
}

/*
 * A window: a counter that is odd while something is under way.  An
 * errno or a signal that only that something explains is allowed if the
 * window was open when the call began (@before odd) or opened since.
 */
static unsigned int window_read(unsigned int *w)
{
	return __atomic_load_n(w, __ATOMIC_ACQUIRE);
}

static void window_flip(unsigned int *w)
{
	__atomic_add_fetch(w, 1, __ATOMIC_ACQ_REL);
}

static bool window_overlap(unsigned int *w, unsigned int before)
{
	return before & 1 || before != window_read(w);
}

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

/* The page of a fault address, or -1UL (a violation) outside the area. */
static unsigned long page_of(struct run *r, unsigned long addr)
{
	unsigned long p = (addr - (unsigned long)r->area) / r->psize;

	if (addr >= (unsigned long)r->area && p < r->npages)
		return p;
	violation(r, "fault at 0x%lx, outside the area %p", addr, r->area);
	return -1UL;
}

/* ---- ioctls; an errno outside @ok (0-terminated) is a violation ---- */

static bool allowed(int err, const int *ok)
{
	for (; *ok; ok++)
		if (err == *ok)
			return true;
	return false;
}

/*
 * In the churn scenarios, and only while the window says so: ENOENT while
 * the churner has the area unregistered, moved or unmapped; EAGAIN while a
 * fork's UFFD_EVENT_FORK is unread (the whole of the racer's fork());
 * EINVAL from CONTINUE on a shmem page beyond the end of the file while
 * it is truncated (shmem_get_folio() refuses it so).
 */
struct windows {
	unsigned int changes, forks, truncations;
};

static struct windows windows_now(struct run *r)
{
	return (struct windows){
		.changes = window_read(&r->changes),
		.forks = window_read(&r->forks),
		.truncations = window_read(&r->truncations),
	};
}

static bool churn_explains(struct run *r, unsigned long req, int err,
			   unsigned long p, struct windows before)
{
	if (!r->sc->churn)
		return false;
	switch (err) {
	case ENOENT:
		return window_overlap(&r->changes, before.changes);
	case EAGAIN:
		return window_overlap(&r->forks, before.forks);
	case EINVAL:
		return req == UFFDIO_CONTINUE && !r->sc->huge &&
		       p >= r->npages / 2 &&
		       window_overlap(&r->truncations, before.truncations);
	}
	return false;
}

static int range_ioctl(struct run *r, unsigned long req, void *arg,
		       const char *what, const int *ok, unsigned long p)
{
	struct windows before = windows_now(r);
	int err = ioctl(r->uffd, req, arg) ? errno : 0;

	if (!err)
		return 0;
	if (err == EAGAIN)
		count(r, OP_EAGAIN);
	if (!allowed(err, ok) && !churn_explains(r, req, err, p, before))
		violation(r, "%s on page %lu: %s", what, p, strerror(err));
	return err;
}

static void wake(struct run *r, unsigned long p)
{
	struct uffdio_range range = {
		.start = (unsigned long)page(r, p), .len = r->psize,
	};
	static const int ok[] = { 0 };

	range_ioctl(r, UFFDIO_WAKE, &range, "UFFDIO_WAKE", ok, p);
}

/*
 * 0 or the errno.  In the churn scenarios, EAGAIN while a fork's event is
 * unread: the caller must not wait for it holding what the handler needs.
 */
static int writeprotect(struct run *r, unsigned long p, bool wp)
{
	struct uffdio_writeprotect w = {
		.range = { .start = (unsigned long)page(r, p), .len = r->psize },
		.mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};
	static const int ok[] = { 0 };

	return range_ioctl(r, UFFDIO_WRITEPROTECT, &w, "UFFDIO_WRITEPROTECT",
			   ok, p);
}

static void defer(struct run *r, unsigned long p, enum defer d)
{
	r->deferred[p] = d;
	r->ndeferred++;
}

/* ---- the handler ---- */

static void serve_minor(struct run *r, unsigned long p)
{
	struct uffdio_continue c = {
		.range = { .start = (unsigned long)page(r, p), .len = r->psize },
		.mode = UFFDIO_CONTINUE_MODE_WP,
	};
	/*
	 * EEXIST: another fault mapped it; EFAULT: punched out meanwhile;
	 * EAGAIN: 6.12 retries a page table it could not lock so; and what
	 * churn_explains().
	 */
	static const int ok[] = { EEXIST, EFAULT, EAGAIN, 0 };
	int err = range_ioctl(r, UFFDIO_CONTINUE, &c, "UFFDIO_CONTINUE|WP",
			      ok, p);

	if (err == EAGAIN && r->sc->churn)
		defer(r, p, DEFER_MINOR);
	else if (err)
		wake(r, p);
}

/* A WP fault: the page is dirty, then writable. */
static void serve_wp(struct run *r, unsigned long p)
{
	int err;

	pthread_mutex_lock(&r->plock[p]);
	r->dirty[p] = 1;
	err = writeprotect(r, p, false);
	pthread_mutex_unlock(&r->plock[p]);
	if (err == EAGAIN)
		defer(r, p, DEFER_WP);
	else if (err)
		wake(r, p);	/* ENOENT: it faults again, or not at all */
}

/*
 * With UFFD_EVENT_FORK, CONTINUE and WRITEPROTECT fail with EAGAIN from
 * the start of a fork until its event is read.  A fault so refused stays
 * unwoken: waking it would only make it fault again, and read() returns
 * pending faults before events, so a handler that wakes on EAGAIN can
 * starve the fork event it waits for.  It is served again after the next
 * message, or after a 1 ms poll that found none (server()).
 */
static void serve_deferred(struct run *r)
{
	unsigned long p;

	r->ndeferred = 0;
	for (p = 0; p < r->npages; p++) {
		enum defer d = r->deferred[p];

		r->deferred[p] = DEFER_NONE;
		if (d == DEFER_MINOR)
			serve_minor(r, p);
		else if (d == DEFER_WP)
			serve_wp(r, p);
	}
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

/* Read one message, if there is one, and serve it. */
static void serve_one(struct run *r)
{
	struct uffd_msg msg;
	ssize_t n = read(r->uffd, &msg, sizeof(msg));
	unsigned long p;

	if (n != sizeof(msg)) {
		if (n >= 0 || errno != EAGAIN)
			violation(r, "read of the userfaultfd: %zd, %s",
				  n, n < 0 ? strerror(errno) : "short");
		return;
	}
	if (msg.event == UFFD_EVENT_FORK && r->sc->churn) {
		/* the child's registration ends with its descriptor */
		close(msg.arg.fork.ufd);
		count(r, OP_FORK_EVENT);
		return;
	}
	if (msg.event != UFFD_EVENT_PAGEFAULT) {
		violation(r, "unexpected event 0x%x", msg.event);
		return;
	}
	p = page_of(r, msg.arg.pagefault.address);
	if (p == -1UL)
		return;
	if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
		serve_wp(r, p);
		count(r, OP_WP_FAULT);
	} else if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR) {
		serve_minor(r, p);
		count(r, OP_MINOR);
	} else {
		serve_missing(r, p);
	}
}

static void *server(void *arg)
{
	struct run *r = arg;
	struct pollfd pfd = { .fd = r->uffd, .events = POLLIN };

	while (!r->stop_server) {
		/* deferred faults: soon, the fork may have ended */
		if (poll(&pfd, 1, r->ndeferred ? 1 : 100) > 0)
			serve_one(r);
		if (r->ndeferred)
			serve_deferred(r);
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
	unsigned int rs = seed * 31 +
			  __atomic_fetch_add(&r->nwriters, 1, __ATOMIC_RELAXED);
	uint32_t n = 0;

	while (!r->stop) {
		unsigned long p = rand_r(&rs) % r->npages;
		uint64_t *w = (uint64_t *)page(r, p);

		pthread_rwlock_rdlock(&r->arealock);
		if (rand_r(&rs) % 4) {
			__atomic_store_n(w, (uint64_t)p << 32 | ++n,
					 __ATOMIC_RELAXED);
			count(r, OP_WRITE);
		} else {
			check_word(r, p, __atomic_load_n(w, __ATOMIC_RELAXED));
			count(r, OP_READ);
		}
		pthread_rwlock_unlock(&r->arealock);
	}
	return NULL;
}

/* A forked child reads a page and exits: 0 if its word is right. */
static void fork_one(struct run *r, unsigned long p)
{
	int status;
	pid_t pid;

	window_flip(&r->forks);
	pid = fork();
	if (pid)
		window_flip(&r->forks);
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

		pthread_rwlock_rdlock(&r->arealock);
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
		pthread_rwlock_unlock(&r->arealock);
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

			pthread_rwlock_rdlock(&r->arealock);
			pthread_mutex_lock(&r->plock[p]);
			if (writeprotect(r, p, true)) {
				/* EAGAIN: let the handler read the fork event */
				pthread_mutex_unlock(&r->plock[p]);
				pthread_rwlock_unlock(&r->arealock);
				p--;
				usleep(200);
				continue;
			}
			v = *(volatile uint64_t *)(r->alias + p * r->psize);
			dirty = r->dirty[p];
			r->dirty[p] = 0;
			pthread_mutex_unlock(&r->plock[p]);
			pthread_rwlock_unlock(&r->arealock);
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

/* ---- the churn ---- */

static __thread sigjmp_buf probe_env;
static __thread volatile sig_atomic_t probing;
static __thread void *volatile probe_addr;

/* SIGSEGV, SIGBUS: the prober's read of a moved or truncated area. */
static void probe_signal(int sig, siginfo_t *si, void *uc)
{
	if (probing) {
		probe_addr = si->si_addr;
		siglongjmp(probe_env, sig);
	}
	signal(sig, SIG_DFL);	/* anyone else's: the fault kills as usual */
}

/* Reads random pages without the area lock, racing the churner. */
static void *prober(void *arg)
{
	struct run *r = arg;
	unsigned int rs = seed * 104729;

	while (!r->stop) {
		unsigned long p = rand_r(&rs) % r->npages;
		unsigned int before = window_read(&r->changes);
		int sig;
		uint64_t v;

		sig = sigsetjmp(probe_env, 1);
		if (sig) {
			/* only a change of the area explains it */
			probing = 0;
			if (probe_addr != page(r, p) ||
			    !window_overlap(&r->changes, before))
				violation(r, "%s at %p reading page %lu (%p), the area in place",
					  strsignal(sig), probe_addr, p, page(r, p));
			count(r, OP_PROBE_SIGNAL);
			continue;
		}
		probing = 1;
		v = *(volatile uint64_t *)page(r, p);
		probing = 0;
		check_word(r, p, v);
		count(r, OP_PROBE);
	}
	return NULL;
}

/* A page of @at (the area's size) with its uffd-wp bit set is a violation. */
static void check_no_wp(struct run *r, char *at, const char *after)
{
	unsigned long p;

	for (p = 0; p < r->npages; p++) {
		uint64_t e = 0;
		off_t off = (unsigned long)(at + p * r->psize) /
			    getpagesize() * sizeof(e);

		if (pread(r->pagemap, &e, sizeof(e), off) != sizeof(e))
			violation(r, "reading pagemap: %s", strerror(errno));
		else if (e & 1ULL << 57)
			violation(r, "page %lu keeps its uffd-wp bit %s", p,
				  after);
	}
}

/*
 * Anonymous PROT_NONE at @at, the area's size: keeps the range ours.
 * @replace: unmapping what is there (the area: a munmap of it); or else
 * the range must be empty (left by mremap), and finding it taken is the
 * end: another thread's mapping got there first.
 */
static void placeholder(struct run *r, char *at, bool replace)
{
	if (mmap(at, r->npages * r->psize, PROT_NONE, MAP_PRIVATE |
		 MAP_ANONYMOUS | MAP_NORESERVE |
		 (replace ? MAP_FIXED : MAP_FIXED_NOREPLACE), -1, 0) == at)
		return;
	violation(r, "mmap PROT_NONE at %p: %s", at, strerror(errno));
	give_up(r);
}

/* Register the area MINOR|WP (if @reg) and write-protect all of it. */
static void protect_area(struct run *r, bool reg)
{
	struct uffdio_register rg = {
		.range = { .start = (unsigned long)r->area,
			   .len = r->npages * r->psize },
		.mode = UFFDIO_REGISTER_MODE_MINOR | UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect w = {
		.range = rg.range, .mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};

	if (reg && ioctl(r->uffd, UFFDIO_REGISTER, &rg))
		violation(r, "UFFDIO_REGISTER again: %s", strerror(errno));
	else if (ioctl(r->uffd, UFFDIO_WRITEPROTECT, &w))
		violation(r, "UFFDIO_WRITEPROTECT of the area: %s",
			  strerror(errno));
}

/*
 * One change of the area, holding the area lock exclusive: nothing but
 * the prober touches the area, and no write is tracked until the area is
 * write-protected again, so the dirty bits and the collector's words stay
 * right.  A truncation changes the contents of the pages it drops: they
 * are dirty, and must read zero.
 */
static void churn_one(struct run *r, unsigned int *rs)
{
	size_t size = r->npages * r->psize;
	struct uffdio_range range = {
		.start = (unsigned long)r->area, .len = size,
	};
	unsigned long p, half = r->npages / 2;
	bool reg = true;

	pthread_rwlock_wrlock(&r->arealock);
	window_flip(&r->changes);
	switch (rand_r(rs) % 4) {
	case 0:
		if (ioctl(r->uffd, UFFDIO_UNREGISTER, &range))
			violation(r, "UFFDIO_UNREGISTER: %s", strerror(errno));
		check_no_wp(r, r->area, "after UFFDIO_UNREGISTER");
		count(r, OP_UNREGISTER);
		break;
	case 1:
		/* without UFFD_EVENT_REMAP the move ends the registration */
		if (mremap(r->area, size, size, MREMAP_MAYMOVE | MREMAP_FIXED,
			   r->spare) != r->spare) {
			violation(r, "mremap away: %s", strerror(errno));
			break;
		}
		placeholder(r, r->area, false);
		check_no_wp(r, r->spare, "after mremap moved it");
		if (mremap(r->spare, size, size, MREMAP_MAYMOVE | MREMAP_FIXED,
			   r->area) != r->area) {
			violation(r, "mremap back: %s", strerror(errno));
			give_up(r);
		}
		placeholder(r, r->spare, false);
		count(r, OP_MREMAP);
		break;
	case 2:
		placeholder(r, r->area, true);
		if (mmap(r->area, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, r->memfd, 0) != r->area) {
			violation(r, "mmap again: %s", strerror(errno));
			give_up(r);
		}
		count(r, OP_MUNMAP);
		break;
	default:
		window_flip(&r->truncations);
		if (ftruncate(r->memfd, half * r->psize) ||
		    ftruncate(r->memfd, size))
			violation(r, "ftruncate: %s", strerror(errno));
		window_flip(&r->truncations);
		for (p = half; p < r->npages; p++) {
			uint64_t v = *(volatile uint64_t *)(r->alias +
							    p * r->psize);

			if (v)
				violation(r, "page %lu holds 0x%llx after truncation",
					  p, (unsigned long long)v);
			pthread_mutex_lock(&r->plock[p]);
			r->dirty[p] = 1;
			pthread_mutex_unlock(&r->plock[p]);
		}
		count(r, OP_TRUNCATE);
		/* the truncation dropped the uffd-wp markers: protect again */
		reg = false;
		break;
	}
	protect_area(r, reg);
	window_flip(&r->changes);
	pthread_rwlock_unlock(&r->arealock);
}

static void *churner(void *arg)
{
	struct run *r = arg;
	unsigned int rs = seed * 1299709;

	while (!r->stop) {
		churn_one(r, &rs);
		usleep(1000 + rand_r(&rs) % 20000);
	}
	return NULL;
}

/* ---- set-up ---- */


static int setup(struct run *r)
{
	const struct scenario *sc = r->sc;
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	pthread_rwlockattr_t rwa;
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
	r->deferred = calloc(r->npages, 1);
	r->seen = calloc(r->npages, sizeof(*r->seen));
	r->plock = calloc(r->npages, sizeof(*r->plock));
	pthread_rwlockattr_init(&rwa);
	pthread_rwlockattr_setkind_np(&rwa,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&r->arealock, &rwa);
	pthread_mutex_init(&r->lock, NULL);
	r->pagemap = -1;
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
	if (sc->churn) {
		struct sigaction sa = { .sa_sigaction = probe_signal };

		/* the mremap target: aligned for a huge page */
		r->spare_raw = mmap(NULL, size + r->psize, PROT_NONE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				    -1, 0);
		if (r->spare_raw == MAP_FAILED)
			return -errno;
		r->spare = (char *)(((uintptr_t)r->spare_raw + r->psize - 1) &
				    ~(uintptr_t)(r->psize - 1));
		r->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		if (r->pagemap < 0)
			return -errno;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_NODEFER | SA_SIGINFO;
		if (sigaction(SIGSEGV, &sa, NULL) || sigaction(SIGBUS, &sa, NULL))
			return -errno;
	}

	r->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (r->uffd < 0)
		return -errno;
	api.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP |
		       UFFD_FEATURE_WP_HUGETLBFS_SHMEM |
		       (sc->copy ? UFFD_FEATURE_MISSING_HUGETLBFS :
			sc->huge ? UFFD_FEATURE_MINOR_HUGETLBFS :
				   UFFD_FEATURE_MINOR_SHMEM) |
		       (sc->churn ? UFFD_FEATURE_EVENT_FORK : 0);
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
		give_up(r);
	}
}

/* Run one scenario for @ms; false on a violation. */
static bool run_scenario(const struct scenario *sc, uint64_t ms)
{
	struct run *r = calloc(1, sizeof(*r));
	pthread_t srv, w[NR_WRITERS], rc, col, prb, chu;
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
	if (sc->churn) {
		pthread_create(&prb, NULL, prober, r);
		pthread_create(&chu, NULL, churner, r);
	}

	while (now_ms() < t0 + ms)
		usleep(100000);
	r->stop = true;
	/* every access must finish: none may be left waiting on a fault */
	for (i = 0; i < NR_WRITERS; i++)
		finish(r, w[i], "a writer");
	finish(r, rc, "the racer");
	if (tracked)
		finish(r, col, "the collector");
	if (sc->churn) {
		finish(r, prb, "the prober");
		finish(r, chu, "the churner");
	}
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
	if (r->spare_raw)
		munmap(r->spare_raw, r->npages * r->psize + r->psize);
	if (r->pagemap >= 0)
		close(r->pagemap);
	free(r->src);
	free(r->dirty);
	free(r->deferred);
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
