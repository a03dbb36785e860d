/*
 * hottrace: which code of a program one run executes, in the order it
 * first runs, for the linker's symbol ordering (scripts/hot-order.sh).
 *
 *	hottrace OUT INPUT PROGRAM [ARG...]
 *
 * Runs PROGRAM with INPUT on stdin under ptrace, one instruction at a
 * time, and writes to OUT the offset (from the program's first mapping,
 * in hex) of every instruction address of the program's own file the
 * first time it runs, one per line.  Slow (a few seconds for a delivery)
 * and only a measuring tool: nothing of it is installed.  Exit status:
 * the program's, or 1 when tracing failed.
 */
#define _GNU_SOURCE
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEEN_BITS	24		/* a bit per 2 bytes of 32 MiB */

static unsigned char seen[(1u << SEEN_BITS) / 8];

/* The program's first mapping and the end of its last, from maps. */
static int
program_range(pid_t pid, const char *prog, uintptr_t *lo, uintptr_t *hi)
{
	char		 path[64], line[4096], real[4096], file[4096];
	unsigned long	 a, b;
	FILE		*f;

	if (realpath(prog, real) == NULL)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	*lo = *hi = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		file[0] = '\0';
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095s", &a, &b,
		    file) < 2 || strcmp(file, real) != 0)
			continue;
		if (*lo == 0)
			*lo = a;
		*hi = b;
	}
	fclose(f);
	return *lo != 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct user_regs_struct r;
	uintptr_t	 lo, hi, off;
	FILE		*out;
	pid_t		 pid;
	int		 st, fd, sig = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: hottrace OUT INPUT PROGRAM [ARG...]\n");
		return 1;
	}
	if ((out = fopen(argv[1], "w")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	if ((pid = fork()) == -1) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		if ((fd = open(argv[2], O_RDONLY)) == -1 || dup2(fd, 0) == -1) {
			perror(argv[2]);
			_exit(127);
		}
		personality(ADDR_NO_RANDOMIZE);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == -1) {
			perror("ptrace");
			_exit(127);
		}
		execv(argv[3], argv + 3);
		perror(argv[3]);
		_exit(127);
	}
	/* stopped at the exec */
	if (waitpid(pid, &st, 0) == -1 || !WIFSTOPPED(st) ||
	    program_range(pid, argv[3], &lo, &hi) == -1) {
		fprintf(stderr, "hottrace: cannot trace %s\n", argv[3]);
		kill(pid, SIGKILL);
		return 1;
	}
	for (;;) {
		if (ptrace(PTRACE_GETREGS, pid, NULL, &r) == 0 &&
		    r.rip >= lo && r.rip < hi) {
			off = r.rip - lo;
			if ((off >> 1) < (1u << SEEN_BITS) &&
			    !(seen[off >> 4] & (1u << ((off >> 1) & 7)))) {
				seen[off >> 4] |= 1u << ((off >> 1) & 7);
				fprintf(out, "%lx\n", (unsigned long)off);
			}
		}
		if (ptrace(PTRACE_SINGLESTEP, pid, NULL,
		    (void *)(intptr_t)sig) == -1 || waitpid(pid, &st, 0) == -1) {
			perror("hottrace");
			return 1;
		}
		if (WIFEXITED(st))
			break;
		if (WIFSIGNALED(st)) {
			fprintf(stderr, "hottrace: killed by signal %d\n",
			    WTERMSIG(st));
			return 1;
		}
		/* a signal other than the step's trap goes on to the program */
		sig = WIFSTOPPED(st) && WSTOPSIG(st) != SIGTRAP ? WSTOPSIG(st) : 0;
	}
	if (fclose(out) == EOF) {
		perror(argv[1]);
		return 1;
	}
	return WEXITSTATUS(st);
}
