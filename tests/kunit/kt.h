/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KUnit test environment, for test bodies written in C++ against the
 * core: assertions, a user address space of the test's own (the test thread
 * gets a fresh mm from kunit_vm_mmap()), files and pages.  Implemented in
 * ckpt_kunit.c; the same boundary rules as include/ckpt/bridge.h apply.
 */
#ifndef CKPT_KT_H
#define CKPT_KT_H

#include <ckpt/bridge.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kunit;

void ckpt_kt_fail(struct kunit *test, const char *file, int line,
		  const char *what, long long left, long long right);
void ckpt_kt_skip(struct kunit *test, const char *reason);

enum ckpt_kt_map {
	CKPT_KT_PRIVATE = 0,
	CKPT_KT_SHARED = 1,
};

__u64 ckpt_kt_mmap(struct kunit *test, struct ckpt_file_ref *file, __u64 len,
		   int prot, int map, __u64 addr);
int ckpt_kt_write_user(__u64 addr, const void *buf, size_t len);
int ckpt_kt_read_user(__u64 addr, void *buf, size_t len);
int ckpt_kt_poke(__u64 addr, const void *buf, size_t len);
struct ckpt_mm_ref *ckpt_kt_mm(void);
void ckpt_kt_drop_own_mm(void);
int ckpt_kt_munmap(__u64 addr, __u64 len);
int ckpt_kt_set_ldt(__u32 nr);
void ckpt_kt_clear_ldt(void);
__u64 ckpt_kt_ldt_entry(__u32 i);
int ckpt_kt_modify_ldt_descriptor(__u32 base, __u32 limit, __u32 bits, __u64 *out);
__u64 ckpt_kt_anon_rss(void);
__u64 ckpt_kt_file_rss(void);

struct ckpt_file_ref *ckpt_kt_tmpfile(__u64 size);
struct ckpt_file_ref *ckpt_kt_file_get(struct ckpt_file_ref *file);
void ckpt_kt_seek(struct ckpt_file_ref *file, __u64 off);
int ckpt_kt_pwrite(struct ckpt_file_ref *file, const void *buf, size_t len,
		   __u64 off);
long ckpt_kt_pread(struct ckpt_file_ref *file, void *buf, size_t len,
		   __u64 off);
void ckpt_kt_seal_grow(struct ckpt_file_ref *file);
int ckpt_kt_fallocate(struct ckpt_file_ref *file, __u64 off, __u64 len);
__u64 ckpt_kt_file_pages(struct ckpt_file_ref *file);

struct ckpt_page_ref *ckpt_kt_page_alloc(void);
void ckpt_kt_page_get(struct ckpt_page_ref *page);
int ckpt_kt_page_refcount(struct ckpt_page_ref *page);
void ckpt_kt_page_free(struct ckpt_page_ref *page);
void *ckpt_kt_page_address(struct ckpt_page_ref *page);

int ckpt_kt_pid_of_current(void);

#ifdef __cplusplus
}
#endif

#endif /* CKPT_KT_H */
