/*
 * floodbench: a flood of messages, delivered one after another the way an
 * MTA runs a local delivery agent: for each message a whole process,
 * the message written into a pipe on its standard input, the time taken
 * from just before fork() to the return of wait4().
 *
 *	floodbench -l LIST -o OUT CMD [ARG...]
 *
 * LIST holds one message file a line (files are read once and kept in
 * memory: a flood repeats a few templates).  CMD runs without a shell, in
 * the environment floodbench was given.  OUT gets one line a delivery:
 *	index  wall_us  exit_status  file  cpu_us
 * (exit_status: the exit code, or 128 + the signal; cpu_us: user and
 * system time of the process and the children it waited for, which
 * other jobs on the machine disturb far less than the wall time).  bench/flood.sh
 * makes the lists and the tables.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct msg {
	char	*path;
	char	*buf;
	size_t	 len;
};

static struct msg	*msgs;
static size_t		 nmsgs;

static void
die(const char *what)
{
	fprintf(stderr, "floodbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The file path, read once. */
static const struct msg *
load(const char *path)
{
	FILE	*f;
	size_t	 i, cap = 0, k;
	char	*b = NULL;

	for (i = 0; i < nmsgs; i++)
		if (strcmp(msgs[i].path, path) == 0)
			return &msgs[i];
	if ((f = fopen(path, "rb")) == NULL)
		die(path);
	msgs = realloc(msgs, (nmsgs + 1) * sizeof(*msgs));
	msgs[nmsgs].path = strdup(path);
	msgs[nmsgs].len = 0;
	for (;;) {
		if (msgs[nmsgs].len + 65536 > cap) {
			cap = cap ? cap * 2 : 131072;
			if ((b = realloc(b, cap)) == NULL)
				die("realloc");
		}
		k = fread(b + msgs[nmsgs].len, 1, cap - msgs[nmsgs].len, f);
		if (k == 0)
			break;
		msgs[nmsgs].len += k;
	}
	fclose(f);
	msgs[nmsgs].buf = b;
	return &msgs[nmsgs++];
}

/* One delivery of m by argv: its wall time in us, its status, CPU. */
static long
run(char **argv, const struct msg *m, int *status_r, long *cpu_r)
{
	struct timespec	 t0, t1;
	struct rusage	 ru;
	size_t		 off = 0;
	ssize_t		 k;
	pid_t		 pid;
	int		 p[2], st;

	if (pipe(p) == -1)
		die("pipe");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[0]);
	while (off < m->len) {
		k = write(p[1], m->buf + off, m->len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;		/* EPIPE: the command stopped reading */
		off += (size_t)k;
	}
	close(p[1]);
	while (wait4(pid, &st, 0, &ru) == -1)
		if (errno != EINTR)
			die("wait4");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*status_r = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	*cpu_r = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	return (t1.tv_sec - t0.tv_sec) * 1000000L +
	    (t1.tv_nsec - t0.tv_nsec) / 1000;
}

int
main(int argc, char **argv)
{
	const char	*list = NULL, *out = NULL;
	char		 line[4096];
	FILE		*lf, *of;
	size_t		 n;
	long		 i = 0, us, cpu;
	int		 ch, st;

	while ((ch = getopt(argc, argv, "+l:o:")) != -1) {
		switch (ch) {
		case 'l':
			list = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (list == NULL || out == NULL || optind >= argc)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	if ((lf = fopen(list, "r")) == NULL)
		die(list);
	if ((of = fopen(out, "w")) == NULL)
		die(out);
	while (fgets(line, sizeof(line), lf) != NULL) {
		n = strlen(line);
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		us = run(argv + optind, load(line), &st, &cpu);
		fprintf(of, "%ld\t%ld\t%d\t%s\t%ld\n", ++i, us, st, line, cpu);
	}
	if (fclose(of) == EOF)
		die(out);
	fclose(lf);
	return 0;
usage:
	fprintf(stderr, "usage: floodbench -l LIST -o OUT CMD [ARG...]\n");
	return 2;
}
