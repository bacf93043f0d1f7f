// SPDX-License-Identifier: GPL-2.0
/*
 * Work for another CPU: the core checksums one batch of pages on a worker
 * while the dumping task writes the batch before it.  The core owns the
 * memory of each work item (charged to the dump) and always waits for a
 * started item before it frees it or returns from the dump.
 */
#include <linux/workqueue.h>

#include <kunit/visibility.h>

#include "bridge.h"

struct ckpt_worker {
	struct work_struct work;
	void (*fn)(void *arg);
	void *arg;
};

/*
 * No completion here: a complete() as the function's last act would let
 * the waiter return, and rmmod free this text, while the kworker is still
 * in our epilogue.  flush_work() is signalled by the workqueue core after
 * we have returned.
 */
static void ckpt_worker_run(struct work_struct *work)
{
	struct ckpt_worker *w = container_of(work, struct ckpt_worker, work);

	w->fn(w->arg);
}

/**
 * ckpt_worker_size() - bytes the core allocates for a work item
 *
 * Return: sizeof(struct ckpt_worker).
 */
size_t ckpt_worker_size(void)
{
	return sizeof(struct ckpt_worker);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_worker_size);

/**
 * ckpt_worker_init() - make memory from the core a work item
 * @w: ckpt_worker_size() bytes from ckpt_kmalloc()
 */
void ckpt_worker_init(struct ckpt_worker *w)
{
	INIT_WORK(&w->work, ckpt_worker_run);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_worker_init);

/**
 * ckpt_worker_start() - run a function on an unbound worker
 * @w: an initialised work item, not started or waited for since
 * @fn: what to run; it must not sleep for long (no I/O, no locks the
 *      dumping task holds)
 * @arg: its argument
 *
 * Unbound: the scheduler places it on an idle CPU if there is one.
 */
void ckpt_worker_start(struct ckpt_worker *w, void (*fn)(void *arg), void *arg)
{
	w->fn = fn;
	w->arg = arg;
	queue_work(system_unbound_wq, &w->work);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_worker_start);

/**
 * ckpt_worker_wait() - wait until a started function has returned
 * @w: the work item
 *
 * Uninterruptible, like waiting for a page to be read: the function does
 * bounded work and the caller still owns what it uses.
 */
void ckpt_worker_wait(struct ckpt_worker *w)
{
	flush_work(&w->work);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_worker_wait);
