#include "interrupt.h"

#include <climits>
#include <csignal>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace ckpt {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

volatile sig_atomic_t g_remove_armed = 0;
char g_remove_path[PATH_MAX];

void on_interrupt(int sig) {
    const int saved_errno = errno;
    if (g_remove_armed) ::unlink(g_remove_path);
    // Die from the signal as if no handler were installed, so the parent
    // sees the usual exit status.  It is delivered when the handler returns.
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    errno = saved_errno;
}

}  // namespace

void install_interrupt_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    // No SA_RESTART: a blocking call (the ioctl, a sleep) should end.
    for (int sig : kSignals) sigaddset(&sa.sa_mask, sig);
    for (int sig : kSignals) {
        // A signal ignored by whoever started us (nohup, a background job)
        // stays ignored.
        struct sigaction old {};
        if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        ::sigaction(sig, &sa, nullptr);
    }
}

void set_interrupt_remove_path(const char* path) {
    g_remove_armed = 0;
    if (!path || std::strlen(path) >= sizeof g_remove_path) return;
    std::strcpy(g_remove_path, path);
    g_remove_armed = 1;
}

}  // namespace ckpt
