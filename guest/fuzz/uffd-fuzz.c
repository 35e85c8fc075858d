// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-fuzz: a structured fuzzer for the userfaultfd ioctls, in the manner
 * of syzkaller's descriptions: each call is built from typed parts (a
 * memory type, a range aligned or not, straddling mappings and holes, or
 * wrapping around, a mode of known and unknown bits) and its outcome is
 * checked against what the ioctl may return.
 *
 *   uffd-fuzz [-s SEED] [-n CALLS] [-t SECONDS]
 *
 * Without -t, the time is uffdwp.stress_secs= of the kernel command line,
 * or 30 s.
 *
 * The main thread makes the calls: UFFDIO_API (a new descriptor now and
 * then), REGISTER and UNREGISTER with every mode combination, COPY,
 * ZEROPAGE, CONTINUE and WRITEPROTECT with random modes, and WAKE, on
 * anonymous, shmem and hugetlbfs memory, shared and private.  Meanwhile a
 * handler thread resolves the faults that a toucher thread takes on
 * random pages, and a chaos thread zaps, punches holes, forks, and
 * remaps or unmaps and maps again.  The seed (printed) makes the main
 * thread's calls the same again; the interleaving is the kernel's.
 *
 * Violations: an errno outside the ioctl's documented set, and, for COPY,
 * ZEROPAGE and CONTINUE, an output field (copy, zeropage, mapped) that
 * does not match the return value: the full length on success, a partial
 * length with EAGAIN, or the negated errno; left untouched only when the
 * call failed validation (EINVAL, EFAULT) or the process is gone (ESRCH).
 * The kernel is watched for reports by the harness.
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

#define NPAGES		8
#define UNSET		((__s64)0x5a5a5a5a)
#define NR_REGIONS	5

struct region {
	const char *name;
	bool huge, shared, anon;
	size_t psize;
	int memfd;
	char *addr;		/* fixed for the run; remapped in place */
	pthread_mutex_t lock;	/* the mapping while chaos changes it */
};

static struct region regions[NR_REGIONS] = {
	{ .name = "anon", .anon = true },
	{ .name = "shmem", .shared = true },
	{ .name = "shmem-private" },
	{ .name = "hugetlb", .huge = true, .shared = true },
	{ .name = "hugetlb-private", .huge = true },
};

enum call {
	C_API, C_REGISTER, C_UNREGISTER, C_COPY, C_ZEROPAGE, C_CONTINUE,
	C_WRITEPROTECT, C_WAKE, NR_CALLS,
};
static const char * const call_name[] = {
	"API", "REGISTER", "UNREGISTER", "COPY", "ZEROPAGE", "CONTINUE",
	"WRITEPROTECT", "WAKE",
};
/* ioctl_userfaultfd(2), and mainline's code where the page is silent */
static const int allowed[NR_CALLS][10] = {
	[C_API] = { EINVAL, EFAULT, EPERM },
	[C_REGISTER] = { EBUSY, EFAULT, EINVAL, ENOMEM, EPERM },
	[C_UNREGISTER] = { EINVAL, ENOMEM, EFAULT },
	[C_COPY] = { EAGAIN, EINVAL, EFAULT, ENOENT, ENOSPC, ESRCH, EEXIST, ENOMEM },
	[C_ZEROPAGE] = { EAGAIN, EINVAL, EFAULT, ENOENT, ENOSPC, ESRCH, EEXIST, ENOMEM },
	[C_CONTINUE] = { EAGAIN, EINVAL, EFAULT, ENOENT, ENOSPC, ESRCH, EEXIST, ENOMEM },
	[C_WRITEPROTECT] = { EAGAIN, EINVAL, EFAULT, ENOENT, ENOMEM },
	[C_WAKE] = { EINVAL, EFAULT },
};

static int uffd = -1;
static volatile bool stop;
static unsigned long calls[NR_CALLS], ok_calls[NR_CALLS], violations;
static unsigned long faults, chaos_ops;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static char *src;		/* a huge page of bytes to copy from */

#define violation(...) do {						\
	pthread_mutex_lock(&out_lock);					\
	if (violations++ < 30) {					\
		printf("# VIOLATION: ");				\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
	pthread_mutex_unlock(&out_lock);				\
} while (0)

/* ---- random parts, from the main thread's generator ---- */

static uint64_t rng;

static uint64_t rnd(void)
{
	/* xorshift64*: the same seed, the same calls */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t pick(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static struct region *any_region(void)
{
	return &regions[pick(NR_REGIONS)];
}

/* A range around @r: aligned or not, empty, straddling, huge or wrapping. */
static void any_range(struct region *r, unsigned long *start,
		      unsigned long *len)
{
	unsigned long base = (unsigned long)r->addr, ps = r->psize;

	switch (pick(10)) {
	case 0:		/* one page */
		*start = base + pick(NPAGES) * ps;
		*len = ps;
		break;
	case 1:		/* several, maybe past the end */
		*start = base + pick(NPAGES) * ps;
		*len = (1 + pick(NPAGES + 2)) * ps;
		break;
	case 2:		/* the whole region */
		*start = base;
		*len = NPAGES * ps;
		break;
	case 3:		/* starting before it */
		*start = base - (1 + pick(2)) * ps;
		*len = (1 + pick(4)) * ps;
		break;
	case 4:		/* base pages in a huge page region */
		*start = base + pick(NPAGES * ps / 4096) * 4096;
		*len = (1 + pick(4)) * 4096;
		break;
	case 5:		/* byte-misaligned */
		*start = base + pick(NPAGES * ps);
		*len = 1 + pick(2 * ps);
		break;
	case 6:		/* empty */
		*start = base + pick(NPAGES) * ps;
		*len = 0;
		break;
	case 7:		/* wrapping around the address space */
		*start = -(unsigned long)(1 + pick(4)) * 4096;
		*len = (2 + pick(4)) * 4096;
		break;
	case 8:		/* from another region to this one */
		*start = (unsigned long)any_region()->addr;
		*len = base > *start ? base - *start + ps : ps;
		break;
	default:	/* enormous */
		*start = base;
		*len = 1UL << (40 + pick(8));
		break;
	}
}

/* Known bits of @known, often; an unknown one, now and then. */
static __u64 any_mode(__u64 known)
{
	__u64 mode = rnd() & known;

	if (!pick(8))
		mode |= 1ULL << (pick(64));
	return mode;
}

/* ---- the calls ---- */

static bool is_allowed(enum call c, int err)
{
	const int *e;

	for (e = allowed[c]; *e; e++)
		if (*e == err)
			return true;
	return false;
}

/*
 * Check one call's outcome: @ret is the ioctl's, @out its output field
 * (UNSET if it has none or it was left alone).
 */
static void check(enum call c, int ret, int err, __s64 out, unsigned long len,
		  const char *what)
{
	calls[c]++;
	if (!ret) {
		ok_calls[c]++;
		if (out != UNSET && out != (__s64)len)
			violation("%s %s: success, but output %lld for length %lu",
				  call_name[c], what, (long long)out, len);
		return;
	}
	if (!is_allowed(c, err)) {
		violation("%s %s: errno %d (%s) not in its documented set",
			  call_name[c], what, err, strerror(err));
		return;
	}
	if (c != C_COPY && c != C_ZEROPAGE && c != C_CONTINUE)
		return;
	if (out == -err)
		return;
	if (err == EAGAIN && out > 0 && out < (__s64)len)
		return;
	if (out == UNSET && (err == EINVAL || err == EFAULT || err == ESRCH))
		return;
	violation("%s %s: %s, but output %lld", call_name[c], what,
		  strerror(err), (long long)out);
}

static void do_api(void)
{
	struct uffdio_api api = { .api = pick(8) ? UFFD_API : rnd() };
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int ret;

	if (fd < 0)
		return;
	api.features = pick(2) ? rnd() : 0;
	ret = ioctl(fd, UFFDIO_API, &api);
	check(C_API, ret, errno, UNSET, 0, "");
	close(fd);
}

static void one_call(void)
{
	struct region *r = any_region();
	unsigned long start, len;
	char what[96];
	int ret, err;

	any_range(r, &start, &len);
	snprintf(what, sizeof(what), "%s +0x%lx len 0x%lx", r->name,
		 start - (unsigned long)r->addr, len);
	switch (pick(9)) {
	case 0:
		do_api();
		return;
	case 1: case 2: {
		struct uffdio_register reg = {
			.range = { .start = start, .len = len },
			.mode = any_mode(UFFDIO_REGISTER_MODE_MISSING |
					 UFFDIO_REGISTER_MODE_WP |
					 UFFDIO_REGISTER_MODE_MINOR),
		};
		ret = ioctl(uffd, UFFDIO_REGISTER, &reg);
		check(C_REGISTER, ret, errno, UNSET, len, what);
		return;
	}
	case 3: {
		struct uffdio_range range = { .start = start, .len = len };

		ret = ioctl(uffd, UFFDIO_UNREGISTER, &range);
		check(C_UNREGISTER, ret, errno, UNSET, len, what);
		return;
	}
	case 4: {
		struct uffdio_copy copy = {
			.dst = start, .src = (unsigned long)src, .len = len,
			.mode = any_mode(UFFDIO_COPY_MODE_DONTWAKE |
					 UFFDIO_COPY_MODE_WP),
			.copy = UNSET,
		};
		if (len > 2UL << 21)	/* src holds one huge page */
			copy.src = start;
		ret = ioctl(uffd, UFFDIO_COPY, &copy);
		err = errno;
		check(C_COPY, ret, err, copy.copy, len, what);
		return;
	}
	case 5: {
		struct uffdio_zeropage zp = {
			.range = { .start = start, .len = len },
			.mode = any_mode(UFFDIO_ZEROPAGE_MODE_DONTWAKE),
			.zeropage = UNSET,
		};
		ret = ioctl(uffd, UFFDIO_ZEROPAGE, &zp);
		err = errno;
		check(C_ZEROPAGE, ret, err, zp.zeropage, len, what);
		return;
	}
	case 6: {
		struct uffdio_continue cont = {
			.range = { .start = start, .len = len },
			.mode = any_mode(UFFDIO_CONTINUE_MODE_DONTWAKE |
					 UFFDIO_CONTINUE_MODE_WP),
			.mapped = UNSET,
		};
		ret = ioctl(uffd, UFFDIO_CONTINUE, &cont);
		err = errno;
		check(C_CONTINUE, ret, err, cont.mapped, len, what);
		return;
	}
	case 7: {
		struct uffdio_writeprotect wp = {
			.range = { .start = start, .len = len },
			.mode = any_mode(UFFDIO_WRITEPROTECT_MODE_WP |
					 UFFDIO_WRITEPROTECT_MODE_DONTWAKE),
		};
		ret = ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
		check(C_WRITEPROTECT, ret, errno, UNSET, len, what);
		return;
	}
	default: {
		struct uffdio_range range = { .start = start, .len = len };

		ret = ioctl(uffd, UFFDIO_WAKE, &range);
		check(C_WAKE, ret, errno, UNSET, len, what);
		return;
	}
	}
}

/* ---- the other threads ---- */

static struct region *region_of(unsigned long addr)
{
	unsigned int i;

	for (i = 0; i < NR_REGIONS; i++)
		if (addr >= (unsigned long)regions[i].addr &&
		    addr < (unsigned long)regions[i].addr + NPAGES * regions[i].psize)
			return &regions[i];
	return NULL;
}

/* Resolve each fault as well as the calls' state allows, then wake it. */
static void *handler(void *arg)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	(void)arg;
	while (!stop) {
		unsigned long addr;
		struct region *r;

		if (poll(&pfd, 1, 50) <= 0 ||
		    read(uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		faults++;
		r = region_of(msg.arg.pagefault.address);
		if (!r)
			continue;
		addr = msg.arg.pagefault.address & ~(r->psize - 1);
		if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
			struct uffdio_writeprotect wp = {
				.range = { .start = addr, .len = r->psize },
			};
			ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
		} else if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR) {
			struct uffdio_continue c = {
				.range = { .start = addr, .len = r->psize },
			};
			ioctl(uffd, UFFDIO_CONTINUE, &c);
		} else {
			struct uffdio_copy c = {
				.dst = addr, .src = (unsigned long)src,
				.len = r->psize,
			};
			ioctl(uffd, UFFDIO_COPY, &c);
		}
		/* whatever happened, the faulting thread must not hang */
		{
			struct uffdio_range range = { .start = addr, .len = r->psize };

			ioctl(uffd, UFFDIO_WAKE, &range);
		}
	}
	return NULL;
}

static void *toucher(void *arg)
{
	unsigned int rs = (unsigned int)(uintptr_t)arg;

	while (!stop) {
		struct region *r = &regions[rand_r(&rs) % NR_REGIONS];
		volatile char *p = r->addr + (rand_r(&rs) % NPAGES) * r->psize;

		pthread_mutex_lock(&r->lock);
		if (rand_r(&rs) % 2)
			*p = 1;
		else
			(void)*p;
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

/* Map @r at its fixed address again (after munmap or mremap away). */
static void map_region(struct region *r)
{
	int flags = MAP_FIXED | (r->shared ? MAP_SHARED : MAP_PRIVATE);
	void *p;

	if (r->anon)
		p = mmap(r->addr, NPAGES * r->psize, PROT_READ | PROT_WRITE,
			 flags | MAP_ANONYMOUS, -1, 0);
	else
		p = mmap(r->addr, NPAGES * r->psize, PROT_READ | PROT_WRITE,
			 flags, r->memfd, 0);
	if (p != r->addr) {
		printf("Bail out! mmap of %s again: %s\n", r->name, strerror(errno));
		exit(1);
	}
}

static void *chaos(void *arg)
{
	unsigned int rs = (unsigned int)(uintptr_t)arg;

	while (!stop) {
		struct region *r = &regions[rand_r(&rs) % NR_REGIONS];
		unsigned long p = rand_r(&rs) % NPAGES;
		char *addr = r->addr + p * r->psize;
		int status;
		pid_t pid;
		void *tmp;

		switch (rand_r(&rs) % 6) {
		case 0:
			madvise(addr, r->psize, MADV_DONTNEED);
			break;
		case 1:
			if (r->memfd >= 0)
				fallocate(r->memfd, FALLOC_FL_PUNCH_HOLE |
					  FALLOC_FL_KEEP_SIZE, p * r->psize,
					  r->psize);
			break;
		case 2:
			pid = fork();
			if (!pid)
				_exit(0);
			if (pid > 0)
				waitpid(pid, &status, 0);
			break;
		case 3:		/* away and back, registration lost */
			pthread_mutex_lock(&r->lock);
			tmp = mremap(r->addr, NPAGES * r->psize,
				     NPAGES * r->psize, MREMAP_MAYMOVE);
			if (tmp != MAP_FAILED)
				munmap(tmp, NPAGES * r->psize);
			map_region(r);
			pthread_mutex_unlock(&r->lock);
			break;
		case 4:		/* unmapped and mapped again */
			pthread_mutex_lock(&r->lock);
			munmap(r->addr, NPAGES * r->psize);
			map_region(r);
			pthread_mutex_unlock(&r->lock);
			break;
		default:
			usleep(200);
			break;
		}
		chaos_ops++;
	}
	return NULL;
}

/* ---- set-up ---- */


static void setup(void)
{
	size_t huge = meminfo_value("Hugepagesize") * 1024;
	struct uffdio_api api = { .api = UFFD_API };
	unsigned int i;

	for (i = 0; i < NR_REGIONS; i++) {
		struct region *r = &regions[i];
		size_t size;

		r->psize = r->huge ? huge : (size_t)getpagesize();
		if (!r->psize) {
			printf("Bail out! no hugetlbfs\n");
			exit(1);
		}
		size = NPAGES * r->psize;
		r->memfd = -1;
		if (!r->anon) {
			r->memfd = memfd_create(r->name, MFD_CLOEXEC |
						(r->huge ? MFD_HUGETLB : 0));
			if (r->memfd < 0 || ftruncate(r->memfd, size)) {
				printf("Bail out! memfd %s: %s\n", r->name,
				       strerror(errno));
				exit(1);
			}
		}
		/* a place for it, with a guard page either side */
		r->addr = mmap(NULL, size + 2 * r->psize, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			       -1, 0);
		r->addr = (char *)(((unsigned long)r->addr + 2 * r->psize - 1) &
				   ~(r->psize - 1));
		map_region(r);
		pthread_mutex_init(&r->lock, NULL);
	}
	src = mmap(NULL, huge, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(src, 0x5a, huge);

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		printf("Bail out! userfaultfd: %s\n", strerror(errno));
		exit(1);
	}
	/* every feature the kernel has */
	close(uffd);
	api.features &= ~(__u64)(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_SIGBUS);
	api.api = UFFD_API;
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		printf("Bail out! userfaultfd: %s\n", strerror(errno));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	unsigned long n = 0, max_calls = 0, i;
	unsigned int secs = cmdline_secs(30);
	uint64_t seed = 0, t0;
	pthread_t th[3];
	struct timespec ts;
	int opt;

	while ((opt = getopt(argc, argv, "s:n:t:")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			max_calls = strtoul(optarg, NULL, 0);
			break;
		case 't':
			secs = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: uffd-fuzz [-s SEED] [-n CALLS] [-t SECONDS]\n");
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (!seed)
		seed = (uint64_t)ts.tv_nsec << 20 ^ ts.tv_sec ^ getpid();
	rng = seed;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..1\n");
	printf("# uffd-fuzz -s 0x%llx -t %u%s: replay with that seed\n",
	       (unsigned long long)seed, secs, max_calls ? " (-n given)" : "");
	setup();
	pthread_create(&th[0], NULL, handler, NULL);
	pthread_create(&th[1], NULL, toucher, (void *)(uintptr_t)(seed | 1));
	pthread_create(&th[2], NULL, chaos, (void *)(uintptr_t)(seed >> 32 | 1));

	t0 = ts.tv_sec;
	while (!max_calls || n < max_calls) {
		one_call();
		n++;
		if (!(n % 64)) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			if ((uint64_t)ts.tv_sec - t0 >= secs)
				break;
		}
	}
	stop = true;
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);

	printf("# %lu calls:", n);
	for (i = 0; i < NR_CALLS; i++)
		printf(" %s %lu/%lu", call_name[i], ok_calls[i], calls[i]);
	printf(" (succeeded/made); faults %lu, chaos %lu, violations %lu\n",
	       faults, chaos_ops, violations);
	printf("%sok 1 uffd-fuzz\n", violations ? "not " : "");
	return violations ? 1 : 0;
}
