// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-creds-target: a process that took credentials of its own, for the
 * restore test of credentials.
 *
 *   ckpt-creds-target MANIFEST      (as root)
 *
 * Takes supplementary groups 1234 and 2345, gids 3001/3002/3003, uids
 * 4001/4002/4003 (keeping capabilities across the change), permitted
 * CAP_KILL and CAP_NET_BIND_SERVICE, effective, inheritable and ambient
 * CAP_NET_BIND_SERVICE, a bounding set without CAP_SYS_BOOT, and
 * no_new_privs (after writing its manifest, "@pid N", as root); starts
 * a second thread, which has them too, and blocks in read(0) for one byte
 * (the caller waits for the main thread to be in read before it dumps).  Then each
 * thread prints its credentials as /proc/thread-self/status shows them
 * (Uid, Gid, Groups, Cap*, NoNewPrivs) with its securebits and the
 * process's dumpable flag, and the process exits with status 0.  A run
 * dumped, killed and restored by root prints what one never interrupted
 * prints.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/manifest.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int go;
static char worker_creds[4096];

/* The calling thread's credentials, one "key value" line each. */
static void describe(char *out, size_t size)
{
	static const char *const keys[] = {
		"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:",
		"CapAmb:", "NoNewPrivs:",
	};
	char line[512];
	size_t used = 0;
	FILE *f = fopen("/proc/thread-self/status", "r");

	out[0] = 0;
	while (f && fgets(line, sizeof(line), f))
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strncmp(line, keys[i], strlen(keys[i])))
				used += snprintf(out + used, size - used, "%s", line);
	if (f)
		fclose(f);
	snprintf(out + used, size - used, "securebits %#x dumpable %d\n",
		 prctl(PR_GET_SECUREBITS), prctl(PR_GET_DUMPABLE));
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!go)
		pthread_cond_wait(&wake, &lock);
	pthread_mutex_unlock(&lock);
	describe(worker_creds, sizeof(worker_creds));
	return NULL;
}

int main(int argc, char **argv)
{
	static const gid_t groups[] = { 1234, 2345 };
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	const unsigned int bind = 1u << CAP_NET_BIND_SERVICE;
	char main_creds[4096];
	struct manifest m;
	pthread_t thread;
	unsigned char byte;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MANIFEST\n", argv[0]);
		return 2;
	}
	/* As root, in a directory that may be root's alone. */
	manifest_open(&m, argv[1]);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_close(&m);
	if (setgroups(2, groups) || setresgid(3001, 3002, 3003) ||
	    prctl(PR_SET_KEEPCAPS, 1) || prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT) ||
	    setresuid(4001, 4002, 4003))
		e2e_die("taking the credentials (run as root)");
	data[0].permitted = bind | 1u << CAP_KILL;
	data[0].effective = bind;
	data[0].inheritable = bind;
	if (syscall(SYS_capset, &hdr, data) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) ||
	    prctl(PR_SET_DUMPABLE, 1) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		e2e_die("taking the capabilities");
	if (pthread_create(&thread, NULL, worker, NULL))
		e2e_die("pthread_create");

	if (read(0, &byte, 1) != 1)
		e2e_die("read");

	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	describe(main_creds, sizeof(main_creds));
	printf("main thread:\n%sother thread:\n%s", main_creds, worker_creds);
	return 0;
}
