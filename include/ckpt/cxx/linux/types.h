/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the uapi header needs from <linux/types.h>, for the freestanding C++
 * core, which must not include kernel headers: fixed-width types only.
 */
#ifndef CKPT_CXX_LINUX_TYPES_H
#define CKPT_CXX_LINUX_TYPES_H
#include <stdint.h>
typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;
typedef int32_t __s32;
typedef int64_t __s64;
#endif
