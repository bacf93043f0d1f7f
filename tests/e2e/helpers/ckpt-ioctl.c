// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-ioctl: call CKPT_IOC_CHECKPOINT directly, with the arguments a test
 * chooses, and print the outcome: "OK bytes=.. vmas=.. pages=.." or
 * "ERR ENAME (message)". Exit 0 when the ioctl succeeded, 1 when it failed,
 * 2 when the set-up around it failed.
 *
 *   ckpt-ioctl [options] PID
 *     --out FILE        image to FILE (created, truncated; default /dev/null)
 *     --out-rdonly FILE pass FILE opened read-only
 *     --fd N            pass fd number N as is
 *     --pipe closed     pass a pipe whose read end is closed
 *     --pipe full       pass a non-blocking pipe nobody reads
 *     --flags N --reserved N --size N
 *     --tail N          append N bytes (value 0xff) after the 80-byte struct,
 *                       with --size covering them; --tail-zero N: zeros
 *     --dev PATH        device (default /dev/ckpt)
 *     --uid N           become uid/gid N before opening the device
 *     --drop-uid N      open the device, then become uid/gid N
 *     --hold MODE       how the target is held while the ioctl runs, as
 *                       the module requires the caller to trace it:
 *                       stop (default; PTRACE_SEIZE and PTRACE_INTERRUPT
 *                       every thread, wait for every ptrace stop), seize
 *                       (PTRACE_SEIZE only: threads run), none, or
 *                       all-but-one (stop every thread but one)
 *
 * Every thread is detached after the ioctl; a stop the seize found pending
 * (a signal-delivery-stop) gets its signal back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/ckpt.h>

struct opts {
	const char *out, *out_rdonly, *pipe, *dev, *hold;
	long fd, uid, drop_uid;
	unsigned long flags, reserved, size, tail;
	int tail_byte;
	pid_t pid;
};

static void usage(void)
{
	fprintf(stderr, "usage: ckpt-ioctl [--out F|--out-rdonly F|--fd N|--pipe closed|full] "
		"[--flags N] [--reserved N] [--size N] [--tail N|--tail-zero N] "
		"[--dev PATH] [--uid N|--drop-uid N] [--hold stop|seize|none|all-but-one] PID\n");
	exit(2);
}

static void fail(const char *what)
{
	fprintf(stderr, "ckpt-ioctl: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void become(long uid)
{
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		fail("setresuid");
}

#define MAX_THREADS 4096

/* The threads this process traces, and the signal each stop swallowed. */
static pid_t held[MAX_THREADS];
static int held_sig[MAX_THREADS];
static int nr_held;

static int is_held(pid_t tid)
{
	for (int i = 0; i < nr_held; i++)
		if (held[i] == tid)
			return 1;
	return 0;
}

/* Wait for @tid's ptrace stop; remember a signal it was about to take. */
static int wait_stop(int i)
{
	int status;

	for (;;) {
		if (waitpid(held[i], &status, __WALL) < 0)
			return -1;
		if (!WIFSTOPPED(status))
			return -1;	/* exited */
		if ((status >> 16) != PTRACE_EVENT_STOP)
			held_sig[i] = WSTOPSIG(status);
		return 0;
	}
}

/*
 * Seize every live thread of @pid (and interrupt each for MODE stop), over
 * and over until a listing finds no new thread: a thread may clone another
 * between the listing and its own seize.  @skip_one leaves one untraced.
 */
static void hold_target(pid_t pid, int interrupt, int skip_one)
{
	pid_t skipped = 0;
	char path[64];
	int found;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	do {
		struct dirent *d;
		DIR *dir = opendir(path);

		if (!dir) {
			if (errno == ENOENT)
				return;	/* no such process: the ioctl says so */
			fail("opendir /proc/PID/task");
		}
		found = 0;
		while ((d = readdir(dir))) {
			pid_t tid = atoi(d->d_name);

			if (tid <= 0 || tid == skipped || is_held(tid))
				continue;
			if (skip_one && !skipped) {
				skipped = tid;	/* stays untraced */
				continue;
			}
			if (nr_held == MAX_THREADS)
				fail("too many threads");
			if (ptrace(PTRACE_SEIZE, tid, NULL, NULL)) {
				if (errno == ESRCH || errno == EPERM)
					continue;	/* exited, or a zombie */
				fail("PTRACE_SEIZE");
			}
			held[nr_held] = tid;
			held_sig[nr_held] = 0;
			if (interrupt && (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) ||
					  wait_stop(nr_held)))
				fail("PTRACE_INTERRUPT");
			nr_held++;
			found = 1;
		}
		closedir(dir);
	} while (found);
}

static void release_target(void)
{
	for (int i = 0; i < nr_held; i++)
		ptrace(PTRACE_DETACH, held[i], NULL, (void *)(long)held_sig[i]);
	nr_held = 0;
}

static int image_fd(const struct opts *o)
{
	int p[2];

	if (o->fd != -1)
		return o->fd;
	if (o->out_rdonly)
		return open(o->out_rdonly, O_RDONLY);
	if (o->pipe && !strcmp(o->pipe, "closed")) {
		signal(SIGPIPE, SIG_IGN);
		if (pipe(p))
			fail("pipe");
		close(p[0]);
		return p[1];
	}
	if (o->pipe && !strcmp(o->pipe, "full")) {
		if (pipe2(p, O_NONBLOCK))
			fail("pipe2");
		return p[1];	/* p[0] stays open and unread */
	}
	if (o->pipe)
		usage();
	return open(o->out ? o->out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
}

static void parse(struct opts *o, int argc, char **argv)
{
	int i;

	*o = (struct opts){ .dev = "/dev/" CKPT_DEVICE_NAME, .hold = "stop", .fd = -1, .uid = -1,
			    .drop_uid = -1, .size = sizeof(struct ckpt_checkpoint_args),
			    .tail_byte = 0xff };
	for (i = 1; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		const char *k = argv[i] + 2, *v = argv[i + 1];

		if (!strcmp(k, "out"))
			o->out = v;
		else if (!strcmp(k, "out-rdonly"))
			o->out_rdonly = v;
		else if (!strcmp(k, "pipe"))
			o->pipe = v;
		else if (!strcmp(k, "dev"))
			o->dev = v;
		else if (!strcmp(k, "hold"))
			o->hold = v;
		else if (!strcmp(k, "fd"))
			o->fd = strtol(v, NULL, 0);
		else if (!strcmp(k, "uid"))
			o->uid = strtol(v, NULL, 0);
		else if (!strcmp(k, "drop-uid"))
			o->drop_uid = strtol(v, NULL, 0);
		else if (!strcmp(k, "flags"))
			o->flags = strtoul(v, NULL, 0);
		else if (!strcmp(k, "reserved"))
			o->reserved = strtoul(v, NULL, 0);
		else if (!strcmp(k, "size"))
			o->size = strtoul(v, NULL, 0);
		else if (!strcmp(k, "tail") || !strcmp(k, "tail-zero")) {
			o->tail = strtoul(v, NULL, 0);
			o->tail_byte = strcmp(k, "tail") ? 0 : 0xff;
			o->size = sizeof(struct ckpt_checkpoint_args) + o->tail;
		} else
			usage();
	}
	if (i != argc - 1)
		usage();
	o->pid = strtol(argv[i], NULL, 0);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct ckpt_checkpoint_args *a;
	int dev, fd, ret, err;
	size_t len;

	parse(&o, argc, argv);
	len = sizeof(*a) + o.tail;
	a = calloc(1, len);
	if (!a)
		fail("calloc");
	memset(a + 1, o.tail_byte, o.tail);
	a->size = o.size;
	a->flags = o.flags;
	a->pid = o.pid;
	a->reserved[0] = o.reserved;

	fd = image_fd(&o);
	if (fd < 0)
		fail("open image fd");
	a->fd = fd;
	if (o.uid >= 0)
		become(o.uid);
	dev = open(o.dev, O_RDWR);
	if (dev < 0) {
		printf("ERR %s (open %s: %s)\n", strerrorname_np(errno), o.dev, strerror(errno));
		return 1;
	}
	if (o.drop_uid >= 0)
		become(o.drop_uid);
	if (!strcmp(o.hold, "stop"))
		hold_target(o.pid, 1, 0);
	else if (!strcmp(o.hold, "seize"))
		hold_target(o.pid, 0, 0);
	else if (!strcmp(o.hold, "all-but-one"))
		hold_target(o.pid, 1, 1);
	else if (strcmp(o.hold, "none"))
		usage();
	ret = ioctl(dev, CKPT_IOC_CHECKPOINT, a);
	err = errno;
	release_target();
	if (ret) {

		printf("ERR %s (%s) bytes=%llu vmas=%llu pages=%llu err_addr=%#llx\n",
		       strerrorname_np(err) ? strerrorname_np(err) : "E?", strerror(err),
		       (unsigned long long)a->bytes, (unsigned long long)a->nr_vmas,
		       (unsigned long long)a->nr_pages, (unsigned long long)a->err_addr);
		return 1;
	}
	printf("OK bytes=%llu vmas=%llu pages=%llu scanned=%llu peak_kmem=%llu\n",
	       (unsigned long long)a->bytes, (unsigned long long)a->nr_vmas,
	       (unsigned long long)a->nr_pages, (unsigned long long)a->pages_scanned,
	       (unsigned long long)a->peak_kmem);
	return 0;
}
