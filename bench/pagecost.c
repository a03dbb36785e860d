/*
 * pagecost: what one page first touched costs a short process on this
 * machine, the unit that a delivery's cost is counted in
 * (docs/performance.md, "Code layout").
 *
 *	pagecost anon N		write one byte in each of N fresh pages
 *	pagecost file N FILE	read one byte in each of N 64 KiB steps of
 *				FILE (as code is faulted in: with the
 *				kernel's fault-around)
 *
 * Timed as whole processes against N = 0, e.g. with pipebench:
 *	pipebench -r 800 -i /dev/null none "pagecost anon 0" \
 *	    hundred "pagecost anon 100"
 * Exit 0, or 64 on a usage error, 1 when FILE cannot be mapped.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ANON_MAX	4096
#define STEP		65536

static volatile char anon[ANON_MAX * 4096];

int
main(int argc, char **argv)
{
	volatile const char *m;
	struct stat	 st;
	long		 n, i;
	int		 fd, sum = 0;

	if (argc < 3 || (n = strtol(argv[2], NULL, 10)) < 0) {
		fprintf(stderr, "usage: pagecost anon N | pagecost file N FILE\n");
		return 64;
	}
	if (strcmp(argv[1], "anon") == 0) {
		if (n > ANON_MAX)
			n = ANON_MAX;
		for (i = 0; i < n; i++)
			anon[i * 4096] = 1;
		return 0;
	}
	if (strcmp(argv[1], "file") != 0 || argc != 4)
		return 64;
	if ((fd = open(argv[3], O_RDONLY)) == -1 || fstat(fd, &st) == -1 ||
	    (m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
	    0)) == MAP_FAILED) {
		perror(argv[3]);
		return 1;
	}
	for (i = 0; i < n && i * STEP < st.st_size; i++)
		sum += m[i * STEP];
	return sum & 0;
}
