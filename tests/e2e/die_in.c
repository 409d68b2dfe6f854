// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * For test_trace_retprobe_sweep.sh: leave(n) returns n, except that leave(1) ends
 * the process inside the call (_exit) and leave(2) first waits in it for SIGUSR1.
 * "die K": K children call leave(1), one after another; then leave(0) in the parent.
 * "wait": leave(2). Each prints what its returning calls returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) int leave(int n)
{
	if (n == 1)
		_exit(0);
	if (n == 2) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigwait(&set, &sig);
	}
	__asm__ volatile("" : "+r"(n));
	return n;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "die")) {
		for (int i = 0; i < atoi(argv[2]); i++) {
			pid_t pid = fork();

			if (pid == 0)
				leave(1);
			if (pid < 0 || waitpid(pid, NULL, 0) != pid)
				return 1;
		}
		printf("%d\n", leave(0));
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "wait")) {
		sigset_t set;

		/* blocked from the start: a signal sent early waits for sigwait() */
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("%d\n", leave(2));
		return 0;
	}
	fprintf(stderr, "usage: die_in die K | wait\n");
	return 2;
}
