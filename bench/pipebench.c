/*
 * pipebench: time whole delivery processes the way an MTA runs them,
 * paired and alternating.
 *
 *	pipebench [-r ROUNDS] [-w WARMUP] [-c CLEANUP] [-o RAW] -i FILE \
 *	    NAME CMD [NAME CMD ...]
 *	pipebench -1 -i FILE CMD	(one run: a pipe feeder for hyperfine)
 *
 * Each CMD is split on blanks and run without a shell (a CMD that starts
 * with "sh:" is given to /bin/sh -c instead).  FILE is read into memory
 * once; for every run the message is written into a pipe on the command's
 * standard input, as a local delivery agent does, and the time is taken
 * from just before fork() to the return of wait4(): start-up, reading,
 * parsing, the maildir write and every fsync.  Peak RSS comes from the
 * same wait4() (the largest of the process and its reaped children).
 *
 * Every round runs every command once, in an order rotated by one each
 * round, so that drifting load (another job on the machine) falls on all
 * of them alike.  The first command is the reference: for every other
 * command the ratio is taken within each round and the median of those
 * per-round ratios is reported, which is what makes a noisy machine
 * usable.  CLEANUP (a shell command, untimed) runs after every round.
 * -g MS spins (untimed) for MS milliseconds after every run, to let
 * whatever a command left running settle; spinning rather than sleeping
 * keeps an idle virtual CPU from being descheduled, which would slow the
 * next start-up.
 *
 * Output, one line per command, tab-separated:
 *	name runs failures median_ms q1_ms q3_ms ratio q1_ratio q3_ratio
 *	maxrss_kib cpu_ms
 * RAW, if given, gets one line per run: round name wall_us cpu_us
 * maxrss_kib status.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXCMD	16
#define MAXARG	64

struct cmd {
	const char	*name;
	char		*argv[MAXARG];
	double		*wall, *cpu, *ratio;
	long		*rss;
	int		 n, fail;
};

static const char *input;
static size_t	 inlen;

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

/*
 * Map the input read-only rather than reading it into the heap: a forked
 * child's peak RSS counts the anonymous memory of the parent it was forked
 * from (Linux keeps the pre-exec high-water mark), while a file mapping
 * is not copied at fork.  So a 20 MiB input does not show up as 20 MiB of
 * every command's peak RSS.
 */
static void
read_input(const char *path)
{
	struct stat	 st;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		die(path);
	inlen = (size_t)st.st_size;
	if (inlen == 0)
		input = "";
	else if ((input = mmap(NULL, inlen, PROT_READ, MAP_PRIVATE, fd, 0)) ==
	    MAP_FAILED)
		die("mmap");
	close(fd);
}

static void
split(struct cmd *c, char *s)
{
	int	 n = 0;
	char	*tok;

	if (strncmp(s, "sh:", 3) == 0) {
		c->argv[0] = "/bin/sh";
		c->argv[1] = "-c";
		c->argv[2] = s + 3;
		c->argv[3] = NULL;
		return;
	}
	for (tok = strtok(s, " \t"); tok != NULL && n < MAXARG - 1;
	    tok = strtok(NULL, " \t"))
		c->argv[n++] = tok;
	c->argv[n] = NULL;
	if (n == 0) {
		fprintf(stderr, "pipebench: empty command\n");
		exit(64);
	}
}

/* One run: returns the wait status; wall and cpu in microseconds. */
static int
run(char *const argv[], double *wall_r, double *cpu_r, long *rss_r)
{
	struct timespec	 t0, t1;
	struct rusage	 ru;
	int		 p[2], status, devnull;
	size_t		 off = 0;
	ssize_t		 k;
	pid_t		 pid;

	if (pipe(p) == -1)
		die("pipe");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		if ((devnull = open("/dev/null", O_WRONLY)) != -1) {
			dup2(devnull, 1);
			close(devnull);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[0]);
	while (off < inlen) {
		k = write(p[1], input + off, inlen - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;		/* the command need not read it all */
		off += (size_t)k;
	}
	close(p[1]);
	while (wait4(pid, &status, 0, &ru) == -1)
		if (errno != EINTR)
			die("wait4");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*wall_r = (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
	*cpu_r = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	*rss_r = ru.ru_maxrss;
	return status;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
cmp_long(const void *a, const void *b)
{
	long	 x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Quantile q of v[0..n) (sorted in place), linear interpolation. */
static double
quantile(double *v, int n, double q)
{
	double	 pos;
	int	 i;

	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	pos = q * (n - 1);
	i = (int)pos;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

static void
spin(int ms)
{
	struct timespec	 t0, t;

	if (ms <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000 +
	    (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

static void
usage(void)
{
	fprintf(stderr, "usage: pipebench [-r ROUNDS] [-w WARMUP] [-g MS] "
	    "[-c CLEANUP] [-o RAW] -i FILE NAME CMD [NAME CMD ...]\n"
	    "       pipebench -1 -i FILE CMD\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	struct cmd	 cmds[MAXCMD];
	const char	*file = NULL, *cleanup = NULL, *rawpath = NULL;
	FILE		*raw = NULL;
	int		 rounds = 100, warmup = 5, once = 0, ch, ncmd = 0, gap = 0;
	int		 r, j, i, st;
	double		 w, cpu;
	long		 rss;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "+1c:g:i:o:r:w:")) != -1)
		switch (ch) {
		case '1':
			once = 1;
			break;
		case 'c':
			cleanup = optarg;
			break;
		case 'g':
			gap = atoi(optarg);
			break;
		case 'i':
			file = optarg;
			break;
		case 'o':
			rawpath = optarg;
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (file == NULL)
		usage();
	read_input(file);
	if (once) {
		if (argc < 1)
			usage();
		st = run(argv, &w, &cpu, &rss);
		if (WIFEXITED(st))
			return WEXITSTATUS(st);
		return 128 + WTERMSIG(st);
	}
	if (argc < 2 || argc % 2 != 0 || argc / 2 > MAXCMD || rounds < 1)
		usage();
	memset(cmds, 0, sizeof(cmds));
	for (i = 0; i < argc; i += 2) {
		struct cmd *c = &cmds[ncmd++];

		c->name = argv[i];
		split(c, argv[i + 1]);
		c->wall = calloc((size_t)rounds, sizeof(double));
		c->cpu = calloc((size_t)rounds, sizeof(double));
		c->ratio = calloc((size_t)rounds, sizeof(double));
		c->rss = calloc((size_t)rounds, sizeof(long));
		if (!c->wall || !c->cpu || !c->ratio || !c->rss)
			die("calloc");
	}
	if (rawpath != NULL && (raw = fopen(rawpath, "w")) == NULL)
		die(rawpath);

	for (r = 0; r < warmup; r++)
		for (j = 0; j < ncmd; j++)
			(void)run(cmds[j].argv, &w, &cpu, &rss), spin(gap);
	if (warmup > 0 && cleanup != NULL && system(cleanup) != 0)
		fprintf(stderr, "pipebench: cleanup failed\n");
	for (r = 0; r < rounds; r++) {
		double	 rw[MAXCMD];
		int	 ok[MAXCMD];

		for (i = 0; i < ncmd; i++) {
			struct cmd *c;

			j = (i + r) % ncmd;
			c = &cmds[j];
			st = run(c->argv, &w, &cpu, &rss);
			spin(gap);
			ok[j] = WIFEXITED(st) && WEXITSTATUS(st) == 0;
			rw[j] = w;
			if (!ok[j])
				c->fail++;
			c->wall[c->n] = w;
			c->cpu[c->n] = cpu;
			c->rss[c->n] = rss;
			c->n++;
			if (raw != NULL)
				fprintf(raw, "%d\t%s\t%.0f\t%.0f\t%ld\t%d\n",
				    r, c->name, w, cpu, rss, st);
		}
		for (j = 1; j < ncmd; j++)
			cmds[j].ratio[r] = rw[j] / rw[0];
		if (cleanup != NULL && system(cleanup) != 0)
			fprintf(stderr, "pipebench: cleanup failed\n");
	}
	for (j = 0; j < ncmd; j++) {
		struct cmd *c = &cmds[j];
		double	 med, q1, q3, rm = 1, r1 = 1, r3 = 1;

		med = quantile(c->wall, c->n, 0.5) / 1e3;
		q1 = quantile(c->wall, c->n, 0.25) / 1e3;
		q3 = quantile(c->wall, c->n, 0.75) / 1e3;
		if (j > 0) {
			rm = quantile(c->ratio, rounds, 0.5);
			r1 = quantile(c->ratio, rounds, 0.25);
			r3 = quantile(c->ratio, rounds, 0.75);
		}
		qsort(c->rss, (size_t)c->n, sizeof(long), cmp_long);
		printf("%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%ld"
		    "\t%.3f\n", c->name, c->n, c->fail, med, q1, q3, rm, r1,
		    r3, c->rss[c->n / 2], quantile(c->cpu, c->n, 0.5) / 1e3);
	}
	if (raw != NULL && fclose(raw) == EOF)
		die(rawpath);
	return 0;
}
