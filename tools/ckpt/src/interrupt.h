// SIGINT/SIGTERM/SIGHUP handling: the handler removes a partial image, then
// lets the signal kill ckpt as usual.  Everything it touches is
// async-signal-safe.
//
// The target needs nothing from the handler: ckpt holds it with ptrace, and
// when ckpt dies the kernel detaches every tracee (exit_ptrace()) the way
// PTRACE_DETACH would, pending signals included.  Sending SIGCONT instead
// would resume a target that was job-stopped before ckpt came.
#pragma once

namespace ckpt {

void install_interrupt_handlers();
// File to unlink if ckpt is interrupted; nullptr for none.  Copied.
void set_interrupt_remove_path(const char* path);

}  // namespace ckpt
