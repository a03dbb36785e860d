/*
 * What the host's mail system says of its own configuration, for learn
 * (the Message-IDs the local MTA writes) and check-config (the settings
 * that hand mail to backstop).  It asks the mail system's own tools, as
 * an administrator would, rather than parsing main.cf, exim4.conf or
 * dovecot.conf itself: postconf knows Postfix's defaults, $name
 * expansion and MAIL_CONFIG, doveconf knows Dovecot's includes and
 * protocol blocks, exim -bP the configuration Exim really uses.
 *
 * Each tool runs with the caller's privileges and environment, standard
 * input and error on /dev/null, for at most MTA_TIMEOUT seconds; only its
 * standard output is read, at most the caller's buffer.  A tool that is
 * not installed is no error: the functions return 0 and the caller says
 * nothing of that mail system.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backstop.h"
#include "mta.h"

#define MTA_TIMEOUT	10	/* seconds for one tool */

extern char **environ;

static const char *const postconf_bins[] = { "/usr/sbin/postconf", NULL };
static const char *const exim_bins[] = { "/usr/sbin/exim4", "/usr/sbin/exim",
    NULL };
static const char *const doveconf_bins[] = { "/usr/bin/doveconf",
    "/usr/sbin/doveconf", NULL };

static const char *
find_bin(const char *const *bins)
{
	for (; *bins != NULL; bins++)
		if (access(*bins, X_OK) == 0)
			return *bins;
	return NULL;
}

static long
ms_left(const struct timespec *end)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(end->tv_sec - now.tv_sec) * 1000 +
	    (end->tv_nsec - now.tv_nsec) / 1000000;
}

/*
 * Run argv (argv[0] an absolute path), its standard output into out
 * (NUL-terminated; what does not fit is read and dropped).  Returns its
 * exit status, or -1 when it could not run, was killed or took longer
 * than MTA_TIMEOUT seconds (then it is killed).
 */
int
mta_run(const char *const *argv, char *out, size_t outsz)
{
	posix_spawn_file_actions_t fa;
	struct pollfd	 pfd;
	struct timespec	 end;
	char		 drop[4096];
	size_t		 n = 0;
	ssize_t		 k;
	pid_t		 pid;
	int		 p[2], st, rc, timeout = 0;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if (posix_spawn_file_actions_init(&fa) != 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)(uintptr_t)argv,
	    environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		errno = rc;
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += MTA_TIMEOUT;
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		long left = ms_left(&end);

		if (left <= 0) {
			timeout = 1;
			break;
		}
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			timeout = 1;
			break;
		}
		if (n + 1 < outsz)
			k = read(p[0], out + n, outsz - 1 - n);
		else
			k = read(p[0], drop, sizeof(drop));
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (n + 1 < outsz)
			n += (size_t)k;
	}
	out[n] = '\0';
	close(p[0]);
	if (timeout)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (timeout || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* The first line of out, without its line end. */
static void
first_line(char *out)
{
	out[strcspn(out, "\r\n")] = '\0';
}

/*
 * One parameter of Postfix's main.cf as Postfix sees it (postconf -x -h:
 * its default when unset, $names expanded; MAIL_CONFIG is honoured).
 * Returns 1 with the value in out, 0 when Postfix is not installed, -1
 * when postconf failed.
 */
int
mta_postconf(const char *name, char *out, size_t outsz)
{
	const char	*argv[] = { NULL, "-x", "-h", name, NULL };

	out[0] = '\0';
	if ((argv[0] = find_bin(postconf_bins)) == NULL)
		return 0;
	if (mta_run(argv, out, outsz) != 0)
		return -1;
	first_line(out);
	return 1;
}

/*
 * Every service of Postfix's master.cf, one a line, each folded into
 * one line (postconf -M).  Returns as mta_postconf().
 */
int
mta_postconf_master(char *out, size_t outsz)
{
	const char	*argv[] = { NULL, "-M", NULL };

	out[0] = '\0';
	if ((argv[0] = find_bin(postconf_bins)) == NULL)
		return 0;
	return mta_run(argv, out, outsz) == 0 ? 1 : -1;
}

/*
 * One option of the configuration Exim runs with (exim -bP NAME prints
 * "NAME = value"; an option it hides from this user is "NAME = <value
 * not displayable>").  Returns as mta_postconf().
 */
int
mta_exim(const char *name, char *out, size_t outsz)
{
	const char	*argv[] = { NULL, "-bP", name, NULL }, *eq;
	size_t		 k;

	out[0] = '\0';
	if ((argv[0] = find_bin(exim_bins)) == NULL)
		return 0;
	if (mta_run(argv, out, outsz) != 0)
		return -1;
	first_line(out);
	if ((eq = strstr(out, " = ")) != NULL)
		eq += 3;
	else if ((k = strlen(out)) > 2 && strcmp(out + k - 2, " =") == 0)
		eq = out + k;		/* "NAME =": empty */
	else
		return -1;
	memmove(out, eq, strlen(eq) + 1);
	return 1;
}

/*
 * One Dovecot setting as a protocol (NULL: outside any protocol block)
 * sees it: doveconf -f protocol=PROTO -h SETTING, "plugin/sieve_before"
 * for a plugin setting.  Returns as mta_postconf().
 */
int
mta_doveconf(const char *proto, const char *setting, char *out,
    size_t outsz)
{
	char		 filter[64];
	const char	*argv[] = { NULL, "-f", filter, "-h", setting, NULL };

	out[0] = '\0';
	if ((argv[0] = find_bin(doveconf_bins)) == NULL)
		return 0;
	if (proto == NULL) {
		argv[1] = "-h";
		argv[2] = setting;
		argv[3] = NULL;
	} else if ((size_t)snprintf(filter, sizeof(filter), "protocol=%s",
	    proto) >= sizeof(filter))
		return -1;
	if (mta_run(argv, out, outsz) != 0)
		return -1;
	first_line(out);
	return 1;
}
