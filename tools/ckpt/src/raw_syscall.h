// A raw system call: for the restorer's own threads, which share the
// restorer's thread pointer and so must not touch errno or anything else
// of the C library's.  Returns the kernel's value (-errno on failure).
#pragma once

namespace ckpt {

inline long raw_syscall(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0) {
    long ret;
    register long r10 asm("r10") = a4;
    register long r8 asm("r8") = a5;
    asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
    return ret;
}

}  // namespace ckpt
