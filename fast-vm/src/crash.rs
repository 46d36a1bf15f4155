//! Leaving evidence when JIT code crashes the process: a differential tester runs
//! generated programs in-process, and a bug in the fast VM (or in native code it
//! calls) may end in SIGSEGV. Before each run the tester names the program text
//! ([`set_current`]); a fatal signal writes that text to the file given to
//! [`install`], then the process dies of the signal as it would have.

use std::cell::Cell;
use std::sync::atomic::{AtomicI32, Ordering};

static FD: AtomicI32 = AtomicI32::new(-1);

thread_local! {
    static CURRENT: Cell<(*const u8, usize)> = const { Cell::new((std::ptr::null(), 0)) };
}

/// Opens `path` for the evidence and installs the handler for SIGSEGV, SIGBUS,
/// SIGILL, SIGFPE and SIGABRT.
pub fn install(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::fd::IntoRawFd;
    let f = std::fs::File::create(path)?;
    FD.store(f.into_raw_fd(), Ordering::SeqCst);
    for sig in [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGABRT,
    ] {
        // SAFETY: `on_fatal` is an `extern "C"` function of the signature sigaction
        // expects without SA_SIGINFO; it only calls async-signal-safe functions
        // (write, fsync, signal, raise). SA_ONSTACK runs it on the alternate signal
        // stack Rust's runtime gives each thread, so a stack overflow in JIT code
        // (the guard page hit) still leaves its evidence.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_fatal as *const () as libc::sighandler_t;
            sa.sa_flags = libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
    Ok(())
}

/// Names the text of the program this thread is about to run (empty: none). The
/// text must stay alive until the next call.
pub fn set_current(text: &str) {
    CURRENT.with(|c| c.set((text.as_ptr(), text.len())));
}

extern "C" fn on_fatal(sig: libc::c_int) {
    let fd = FD.load(Ordering::SeqCst);
    let (p, n) = CURRENT.with(Cell::get);
    if fd >= 0 && !p.is_null() {
        // SAFETY: `p` and `n` describe the text named by `set_current` on this thread,
        // which the caller keeps alive while the program runs; write and fsync are
        // async-signal-safe.
        unsafe {
            libc::write(fd, p.cast(), n);
            libc::fsync(fd);
        }
    }
    // SAFETY: restoring the default action and re-raising ends the process as the
    // signal would have; both are async-signal-safe.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Restores the default action of SIGPIPE, which Rust's runtime ignores: a tool
/// whose output pipe closes early (`muni check … | head`) then ends quietly, as a
/// shell pipeline expects, instead of failing its next write with a panic.
pub fn die_on_broken_pipe() {
    // SAFETY: setting the default disposition of SIGPIPE installs no handler and
    // touches no memory; it is done once at start, before any output.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
