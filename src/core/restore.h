// SPDX-License-Identifier: GPL-2.0
//
// CKPT_IOC_RESTORE's work on an image already open: the ioctl's entry
// (ckpt_restore(), which takes the image by its descriptor) and the KUnit
// tests (which give a file of their own) both come here.
#pragma once

#include <linux/ckpt.h>

#include "kernel_refs.h"
#include "result.h"

namespace ckpt {

// Reads `in` from its position, just after the MM record's header, and
// builds the image's memory in current's address space (see
// struct ckpt_restore_args).
Status restore_from(ckpt_restore_args* args, FileRef in);

}  // namespace ckpt
