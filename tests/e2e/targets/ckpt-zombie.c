// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-zombie: leave a zombie child behind. Forks a child that exits at once,
 * never reaps it, writes a manifest with "@pid <zombie>" and "@parent <self>"
 * and sleeps forever.
 *
 *   ckpt-zombie MANIFEST
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>

#include "../lib/manifest.h"

int main(int argc, char **argv)
{
	struct manifest m;
	siginfo_t si;
	pid_t child;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MANIFEST\n", argv[0]);
		return 1;
	}
	child = fork();
	if (child < 0)
		e2e_die("fork");
	if (child == 0)
		_exit(0);
	/* wait until it is a zombie, without reaping it */
	if (waitid(P_PID, child, &si, WEXITED | WNOWAIT))
		e2e_die("waitid");
	manifest_open(&m, argv[1]);
	manifest_fact(&m, "pid %d", (int)child);
	manifest_fact(&m, "parent %d", (int)getpid());
	manifest_close(&m);
	for (;;)
		pause();
}
