// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fixture for test_backend_tls.sh: a thread-local `v` (42 in the main thread, 1234 in
 * a second thread) read by read_v(), whose argument is the caller's thread pointer as
 * %fs:0 gives it, so the test can check the BPF side's thread pointer against it.
 */
#include <pthread.h>
#include <unistd.h>

__thread long before[3] = { 1, 2, 3 };	/* so that v is not at the segment's start */
__thread int v = 42;

__attribute__((noinline)) int read_v(long tp)
{
	asm volatile("" ::: "memory");
	return v + (int)(tp & 0);
}

static long thread_pointer(void)
{
	long tp;

	asm volatile("mov %%fs:0, %0" : "=r"(tp));
	return tp;
}

static void *worker(void *arg)
{
	v = 1234;
	for (;;) {
		read_v(thread_pointer());
		usleep(10000);
	}
	return arg;
}

int main(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, worker, NULL))
		return 1;
	for (;;) {
		read_v(thread_pointer());
		usleep(10000);
	}
	return before[0];
}
