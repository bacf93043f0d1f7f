/* SPDX-License-Identifier: GPL-2.0 */
/* The C++ core never issues ioctls: the uapi header's _IOWR stays unexpanded. */
#ifndef CKPT_CXX_LINUX_IOCTL_H
#define CKPT_CXX_LINUX_IOCTL_H
#endif
