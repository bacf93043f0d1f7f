// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-finish-probe: CKPT_IOC_RESTORE_FINISH on an open /dev/ckpt that
 * restored nothing.  The module must refuse it (EPERM), whoever calls:
 * FINISH is authorised by the CKPT_IOC_RESTORE that rebuilt the caller's
 * memory through the same open file.  Prints the outcome; exit 0 on EPERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ckpt.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
	struct ckpt_restore_finish_args args;
	int fd = open("/dev/ckpt", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror("/dev/ckpt");
		return 2;
	}
	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	if (ioctl(fd, CKPT_IOC_RESTORE_FINISH, &args) == 0) {
		printf("FINISH succeeded\n");
		return 1;
	}
	printf("FINISH: %s\n", strerror(errno));
	return errno == EPERM ? 0 : 1;
}
