/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the guest programs of this project share (guest/bench,
 * guest/stress, guest/fuzz); built with -Irepo:guest/include.
 */
#ifndef GUEST_UTIL_H
#define GUEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A value of /proc/meminfo (pages, or kB for sizes), 0 if absent. */
static inline unsigned long meminfo_value(const char *key)
{
	size_t len = strlen(key);
	unsigned long val = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			val = strtoul(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

/*
 * uffdwp.stress_secs=N of the kernel command line (how make check-debug
 * DURATION=... reaches the guest), or @def.
 */
static inline unsigned int cmdline_secs(unsigned int def)
{
	static const char key[] = "uffdwp.stress_secs=";
	char buf[4096], *p;
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return def;
	if (fgets(buf, sizeof(buf), f)) {
		p = strstr(buf, key);
		if (p)
			def = strtoul(p + strlen(key), NULL, 10);
	}
	fclose(f);
	return def;
}

#endif
