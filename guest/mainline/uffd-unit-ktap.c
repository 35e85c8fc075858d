// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-unit-ktap - run mainline's uffd-unit-tests and report it as KTAP
 *
 * Mainline's tools/testing/selftests/mm/uffd-unit-tests prints one line per
 * case and memory type,
 *
 *	Testing minor-wp on shmem... done
 *	Testing wp-unpopulated on anon... skipped [reason: feature missing]
 *	Testing wp-fork on hugetlb... failed [reason: ...]
 *
 * and exits 1 if any case failed, but it emits no KTAP, and a case that
 * hits one of its err() checks ends the whole program with "ERROR: ..." on
 * stderr.  This wrapper runs it with stdout and stderr on one pipe and
 * turns every case into a KTAP result, so the harness can tell which case
 * passed, skipped (and why) or failed, and how long each took:
 *
 *	KTAP version 1
 *	# uffd-unit-ktap: uffd-unit-tests -f minor
 *	# minor-wp on shmem: 3.21s
 *	ok 1 minor-wp on shmem
 *	# wp-unpopulated on anon: 0.01s
 *	ok 2 wp-unpopulated on anon # SKIP feature missing
 *	...
 *	1..N
 *
 * The plan comes last: the program cannot say in advance how many cases a
 * filter selects.  Results are written as they come, so a run killed by a
 * timeout still reports the cases it finished.  The program's other output
 * goes to stderr, and last a one-line summary (the harness shows the last
 * line of stderr as the reason of a failure).
 *
 * The program prints "Testing NAME... " and flushes when a case starts, and
 * its result line is flushed when the next case starts, so a case's time is
 * from the arrival of its "Testing" line to that of its result (setup and
 * teardown included).
 *
 * With -f FILTER (repeatable) the program runs once per filter with
 * "-f FILTER" added (its own option: the cases whose name contains
 * FILTER), so one test can run a chosen set of cases; a failure that ends
 * one run does not stop the next.  A filter that selects no case fails.
 *
 * Exit status: 0 if no case failed, 4 (kselftest's SKIP) if every case
 * skipped, 1 if a case failed, the program died or exited non-zero without
 * naming a failed case, or a run selected no case (each of these is a
 * "not ok" result named for the command line).
 *
 * Usage: uffd-unit-ktap [-f FILTER]... PROGRAM [ARG...]
 *   e.g. uffd-unit-ktap -f minor -f wp- uffd-unit-tests
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define KSFT_SKIP 4
#define MAX_ARGS 64

static const char start_tag[] = "Testing ";
static const char name_end[] = "... ";

static int ncase, npass, nskip, nfail;
static char first_failure[512];
static double case_start;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void failure(const char *what, const char *why)
{
	nfail++;
	if (!first_failure[0])
		snprintf(first_failure, sizeof(first_failure), "%.200s: %.300s", what, why);
}

/* A run that failed outside any case: a result of its own, named LABEL. */
static void run_failure(const char *label, const char *why)
{
	ncase++;
	printf("not ok %d %s # %s\n", ncase, label, why);
	fflush(stdout);
	failure(label, why);
}

/* Strip "[reason: X]" to "X"; anything else is kept as is. */
static const char *reason_of(char *s)
{
	static const char tag[] = "[reason: ";
	size_t n;

	if (strncmp(s, tag, sizeof(tag) - 1))
		return s;
	s += sizeof(tag) - 1;
	n = strlen(s);
	if (n && s[n - 1] == ']')
		s[n - 1] = '\0';
	return s;
}

/* One case finished: NAME with the program's words about its OUTCOME. */
static void result(const char *name, char *outcome)
{
	const char *why;

	ncase++;
	printf("# %s: %.2fs\n", name, now() - case_start);
	if (!strcmp(outcome, "done")) {
		npass++;
		printf("ok %d %s\n", ncase, name);
	} else if (!strncmp(outcome, "skipped ", 8)) {
		nskip++;
		printf("ok %d %s # SKIP %s\n", ncase, name, reason_of(outcome + 8));
	} else {
		/* "failed [reason: ...]", an err() message, or nothing */
		why = !strncmp(outcome, "failed ", 7) ? reason_of(outcome + 7) : outcome;
		if (!*why)
			why = "no result";
		printf("not ok %d %s # %s\n", ncase, name, why);
		failure(name, why);
	}
	fflush(stdout);
}

/* A complete line of the program's output (without its newline). */
static void line(char *s)
{
	char *end;

	if (strncmp(s, start_tag, sizeof(start_tag) - 1) ||
	    !(end = strstr(s, name_end))) {
		fprintf(stderr, "%s\n", s);
		return;
	}
	*end = '\0';
	result(s + sizeof(start_tag) - 1, end + sizeof(name_end) - 1);
}

/* Run ARGV (NULL-terminated) once and report its cases. */
static void run(char **argv, const char *label)
{
	static char buf[1 << 16];
	int fds[2], status, started = 0, cases = ncase, fails = nfail;
	char *nl, what[64];
	size_t len = 0;
	pid_t pid;
	ssize_t n;

	printf("# uffd-unit-ktap: %s\n", label);
	fflush(stdout);
	if (pipe(fds)) {
		run_failure(label, strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		run_failure(label, strerror(errno));
		return;
	}
	if (!pid) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "ERROR: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);

	case_start = now();
	for (;;) {
		n = read(fds[0], buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
		buf[len] = '\0';
		while ((nl = memchr(buf, '\n', len))) {
			*nl = '\0';
			line(buf);
			started = 0;
			len -= nl + 1 - buf;
			memmove(buf, nl + 1, len);
			buf[len] = '\0';
		}
		/* A case starts when its "Testing NAME... " arrives. */
		if (!started && !strncmp(buf, start_tag, sizeof(start_tag) - 1) &&
		    strstr(buf, name_end)) {
			case_start = now();
			started = 1;
		}
		if (len == sizeof(buf) - 1) {	/* a line longer than buf */
			line(buf);
			len = 0;
		}
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;

	if (WIFSIGNALED(status))
		snprintf(what, sizeof(what), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(what, sizeof(what), "exited with %d", WEXITSTATUS(status));
	if (len) {
		/* A case that never finished: the program died inside it. */
		if (started && len + strlen(what) < sizeof(buf))
			strcat(buf, what);
		line(buf);
	}
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && nfail == fails)
		run_failure(label, what);
	else if (ncase == cases)
		run_failure(label, "selected no test case");
}

int main(int argc, char *argv[])
{
	char *filters[MAX_ARGS], *args[MAX_ARGS + 3], label[512];
	int nfilters = 0, nargs, opt, i;

	while ((opt = getopt(argc, argv, "+f:")) != -1) {
		if (opt != 'f' || nfilters == MAX_ARGS)
			goto usage;
		filters[nfilters++] = optarg;
	}
	nargs = argc - optind;
	if (nargs < 1 || nargs > MAX_ARGS)
		goto usage;
	memcpy(args, argv + optind, nargs * sizeof(*args));

	printf("KTAP version 1\n");
	for (i = 0; i < (nfilters ? nfilters : 1); i++) {
		args[nargs] = NULL;
		if (nfilters) {
			args[nargs] = "-f";
			args[nargs + 1] = filters[i];
			args[nargs + 2] = NULL;
		}
		label[0] = '\0';
		for (char **a = args; *a; a++)
			snprintf(label + strlen(label), sizeof(label) - strlen(label),
				 "%s%s", a == args ? "" : " ", *a);
		run(args, label);
	}
	printf("1..%d\n", ncase);
	fflush(stdout);
	fprintf(stderr, "%d passed, %d skipped, %d failed%s%s\n", npass, nskip, nfail,
		nfail ? ": " : "", first_failure);
	if (nfail)
		return 1;
	return npass ? 0 : KSFT_SKIP;

usage:
	fprintf(stderr, "usage: uffd-unit-ktap [-f FILTER]... PROGRAM [ARG...]\n");
	return 1;
}
