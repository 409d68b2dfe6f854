// SPDX-License-Identifier: GPL-2.0-or-later
/* Running the helper programs (proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "tracer/proc.h"

extern char **environ;

int gs_proc_sibling(const char *env, const char *name, char *buf, size_t len)
{
	const char *over = env ? getenv(env) : NULL;
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (over && *over) {
		if (snprintf(buf, len, "%s", over) >= (int)len)
			return -ENAMETOOLONG;
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if (snprintf(buf, len, "%s/%s", exe, name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int gs_proc_start(const char *path, char *const argv[], int in_fd, int out_fd, pid_t *pid_ret)
{
	posix_spawn_file_actions_t fa;
	int ret;

	if (posix_spawn_file_actions_init(&fa))
		return -ENOMEM;
	if (in_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	else if (out_fd == -2)
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	ret = -posix_spawn(pid_ret, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return ret;
}

int gs_proc_wait(pid_t pid, int *status_ret)
{
	while (waitpid(pid, status_ret, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}
