// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-wait-target: threads in timed waits that do not retry, for the
 * restore test of the kernel's restart state (RESTART records).
 *
 *   ckpt-wait-target MANIFEST SECONDS
 *
 * Five threads each make one call that waits SECONDS and never repeat it
 * on EINTR, as many programs do not: nanosleep(), clock_nanosleep() on
 * CLOCK_BOOTTIME, poll() with no descriptors, a FUTEX_WAIT with a relative
 * timeout and a FUTEX_WAIT_BITSET with an absolute one.  The manifest
 * ("@pid N", "@tids A B C D E") is written once all five are started; the
 * caller waits until each is inside its call (/proc/PID/task/TID/syscall).
 *
 * Each thread prints "CALL: OK" if the call returned as an uninterrupted
 * wait does (0, or ETIMEDOUT for the futex waits) no earlier than SECONDS
 * after it began on CLOCK_MONOTONIC, else "CALL: BAD rc R errno E after
 * S s".  A run dumped, killed and restored on the same boot prints the
 * same as one never interrupted; exit status 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../lib/manifest.h"

#define NR_WAITS 5

static const char *const names[NR_WAITS] = {
	"nanosleep", "clock_nanosleep", "poll", "futex_wait", "futex_wait_bitset",
};
static long seconds;
static uint32_t futex_word;
static pid_t tids[NR_WAITS];
static char lines[NR_WAITS][128];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t started = PTHREAD_COND_INITIALIZER;
static int nr_started;

static int64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One call, as the program makes it: the result and errno. */
static long wait_once(int which, int *err)
{
	struct timespec rel = { seconds, 0 }, abs;
	long rc = -1;

	switch (which) {
	case 0:
		rc = nanosleep(&rel, NULL);
		break;
	case 1:
		/* Returns the error number, sets no errno. */
		rc = clock_nanosleep(CLOCK_BOOTTIME, 0, &rel, NULL);
		*err = (int)rc;
		return rc ? -1 : 0;
	case 2:
		rc = poll(NULL, 0, (int)(seconds * 1000));
		break;
	case 3:
		rc = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0);
		break;
	case 4:
		clock_gettime(CLOCK_MONOTONIC, &abs);
		abs.tv_sec += seconds;
		rc = syscall(SYS_futex, &futex_word, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL,
			     FUTEX_BITSET_MATCH_ANY);
		break;
	}
	*err = rc < 0 ? errno : 0;
	return rc;
}

static void *waiter(void *arg)
{
	const int which = (int)(intptr_t)arg;
	const int futex = which >= 3;
	int64_t begin, elapsed;
	long rc;
	int err = 0;

	pthread_mutex_lock(&lock);
	tids[which] = (pid_t)syscall(SYS_gettid);
	nr_started++;
	pthread_cond_signal(&started);
	pthread_mutex_unlock(&lock);

	begin = monotonic_ns();
	rc = wait_once(which, &err);
	elapsed = monotonic_ns() - begin;
	if (elapsed >= seconds * 1000000000LL &&
	    (futex ? rc == -1 && err == ETIMEDOUT : rc == 0))
		snprintf(lines[which], sizeof(lines[which]), "%s: OK", names[which]);
	else
		snprintf(lines[which], sizeof(lines[which]), "%s: BAD rc %ld errno %d after %.3f s",
			 names[which], rc, err, elapsed / 1e9);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t threads[NR_WAITS];
	struct manifest m;

	if (argc != 3 || (seconds = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: %s MANIFEST SECONDS\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < NR_WAITS; i++)
		if (pthread_create(&threads[i], NULL, waiter, (void *)(intptr_t)i))
			e2e_die("pthread_create");
	pthread_mutex_lock(&lock);
	while (nr_started < NR_WAITS)
		pthread_cond_wait(&started, &lock);
	pthread_mutex_unlock(&lock);

	manifest_open(&m, argv[1]);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_fact(&m, "tids %d %d %d %d %d", tids[0], tids[1], tids[2], tids[3], tids[4]);
	manifest_close(&m);

	for (int i = 0; i < NR_WAITS; i++) {
		pthread_join(threads[i], NULL);
		printf("%s\n", lines[i]);
	}
	return 0;
}
