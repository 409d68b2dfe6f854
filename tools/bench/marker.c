// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The benchmarks' start-up timer: runs CMD with its stdout and stderr on a pipe,
 * copies what it prints to our stdout, and prints "ARMED_MS TOTAL_MS" on stderr:
 * the time from just before the fork until a line holding MARKER arrived, and until
 * CMD exited. A bash read loop costs about 4 ms more per run on this machine (its
 * own fork for the process substitution, a read() per byte), which would hide the
 * difference between fast tools. Exit status: CMD's, or 1 without the marker.
 *
 * Usage: marker MARKER CMD [ARGS...]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	char buf[65536], line[4096];
	size_t linelen = 0;
	double t0, armed = -1, total;
	int pfd[2], status;
	const char *mark;
	pid_t pid;
	ssize_t n;

	if (argc < 3) {
		fprintf(stderr, "usage: marker MARKER CMD [ARGS...]\n");
		return 2;
	}
	mark = argv[1];
	if (pipe(pfd))
		return 2;
	t0 = now_ms();
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "marker: cannot run '%s': %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		fwrite(buf, 1, (size_t)n, stdout);
		/* the marker is looked for line by line, as the bash version did */
		for (ssize_t i = 0; i < n && armed < 0; i++) {
			if (buf[i] != '\n' && linelen < sizeof(line) - 1) {
				line[linelen++] = buf[i];
				continue;
			}
			line[linelen] = '\0';
			if (buf[i] == '\n' && strstr(line, mark))
				armed = now_ms();
			if (buf[i] == '\n')
				linelen = 0;
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	total = now_ms();
	fflush(stdout);
	fprintf(stderr, "%.3f %.3f\n", armed < 0 ? -1 : armed - t0, total - t0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	return armed < 0;
}
