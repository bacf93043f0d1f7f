// SIGINT/SIGTERM/SIGHUP handling while ckpt holds a target stopped: the
// handler resumes the target and removes a partial image, then lets the
// signal kill ckpt as usual.  Everything it touches is async-signal-safe.
#pragma once

#include <sys/types.h>

namespace ckpt {

void install_interrupt_handlers();
// Target to SIGCONT if ckpt is interrupted; 0 for none.
void set_interrupt_resume_pid(pid_t pid);
// File to unlink if ckpt is interrupted; nullptr for none.  Copied.
void set_interrupt_remove_path(const char* path);

}  // namespace ckpt
