// SPDX-License-Identifier: GPL-2.0
/*
 * Files: the image's destination (and a restore's source) and the backing
 * files' paths.
 *
 * Only kernel memory reaches the destination: page contents are copied out
 * of the target first (ckpt_page_copy()), so what is written is what was
 * checksummed, and no page of the target is held while a write blocks.
 */
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <kunit/visibility.h>

#include "bridge.h"

/* A reference on the caller's @fd if it is open with every bit of @mode. */
static int ckpt_file_get(s32 fd, fmode_t mode, struct ckpt_file_ref **out)
{
	struct file *file;

	if (fd < 0)
		return -EBADF;
	file = fget(fd);
	if (!file)
		return -EBADF;
	if ((file->f_mode & mode) != mode) {
		fput(file);
		return -EBADF;
	}
	*out = (struct ckpt_file_ref *)file;
	return 0;
}

/**
 * ckpt_file_get_output() - take a reference on the caller's output fd
 * @fd: file descriptor in the calling process
 * @out: receives the reference; drop it with ckpt_file_put()
 *
 * Return: 0, or -EBADF if @fd is not open or not open for writing.
 */
int ckpt_file_get_output(s32 fd, struct ckpt_file_ref **out)
{
	return ckpt_file_get(fd, FMODE_WRITE, out);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_file_get_output);

/**
 * ckpt_file_get_input() - take a reference on the caller's image fd
 * @fd: file descriptor in the calling process
 * @out: receives the reference; drop it with ckpt_file_put()
 *
 * Return: 0, or -EBADF if @fd is not open or not open for reading.
 */
int ckpt_file_get_input(s32 fd, struct ckpt_file_ref **out)
{
	return ckpt_file_get(fd, FMODE_READ, out);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_file_get_input);
/**
 * ckpt_file_put() - drop a file reference
 * @ref: from ckpt_file_get_output() or ckpt_mm_find_vma()
 */
void ckpt_file_put(struct ckpt_file_ref *ref)
{
	fput(to_file(ref));
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_file_put);

/**
 * ckpt_file_path() - the path of a file, as /proc/PID/maps shows it
 * @ref: the file
 * @buf: receives the NUL-terminated path
 * @len: size of @buf
 *
 * Return: the path's length without the NUL, or -ENAMETOOLONG.
 */
int ckpt_file_path(struct ckpt_file_ref *ref, char *buf, size_t len)
{
	char *path = d_path(ckpt_file_user_path(to_file(ref)), buf, len);
	size_t n;

	if (IS_ERR(path))
		return PTR_ERR(path);
	n = strlen(path);
	memmove(buf, path, n + 1);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_file_path);

/* Where the next byte goes: streams (pipes, sockets) have no position. */
static loff_t *ckpt_file_pos(struct file *file)
{
	return (file->f_mode & FMODE_STREAM) ? NULL : &file->f_pos;
}

/* Write all of @iter, or fail: short writes are retried. */
static int ckpt_file_write_iter(struct file *file, struct iov_iter *iter)
{
	ssize_t ret;

	while (iov_iter_count(iter)) {
		ret = vfs_iter_write(file, iter, ckpt_file_pos(file), 0);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return -EIO;
	}
	return 0;
}

/**
 * ckpt_file_write() - append bytes to the output
 * @ref: the output
 * @buf: kernel memory
 * @len: bytes
 *
 * Return: 0 once all of @buf is written, or a negative errno: -ENOSPC on a
 * full disk, -EPIPE for a closed pipe, -EAGAIN for a non-blocking fd that
 * would block, -EINTR (or -ERESTARTSYS) if a signal interrupted the write.
 */
int ckpt_file_write(struct ckpt_file_ref *ref, const void *buf, size_t len)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_iter iter;

	iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, len);
	return ckpt_file_write_iter(to_file(ref), &iter);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_file_write);
