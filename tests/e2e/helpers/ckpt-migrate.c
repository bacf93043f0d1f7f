// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-migrate: move every page of process PID from NUMA node 0 to node 1
 * and back, over and over, until killed (as NUMA balancing, compaction or
 * an administrator's migratepages(8) would), printing one line per pass.
 *
 *   ckpt-migrate PID
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long node0 = 1, node1 = 2;
	pid_t pid;

	if (argc != 2) {
		fprintf(stderr, "usage: ckpt-migrate PID\n");
		return 2;
	}
	pid = atoi(argv[1]);
	for (unsigned long pass = 0;; pass++) {
		const unsigned long *from = pass % 2 ? &node1 : &node0;
		const unsigned long *to = pass % 2 ? &node0 : &node1;
		long left = syscall(SYS_migrate_pages, pid, 8 * sizeof(long), from, to);

		if (left < 0) {
			fprintf(stderr, "ckpt-migrate: migrate_pages: %s\n", strerror(errno));
			return 1;
		}
		printf("pass %lu: %ld not moved\n", pass, left);
		fflush(stdout);
	}
}
