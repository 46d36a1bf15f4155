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

/// The signals that end a run which JIT code (or C it calls) got wrong.
const FATAL: [libc::c_int; 6] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGABRT,
    libc::SIGTRAP,
];

/// Installs `handler` for every [`FATAL`] signal, on the alternate signal stack
/// Rust's runtime gives each thread (SA_ONSTACK), so that a stack overflow in JIT
/// code (the guard page hit) still reaches it.
///
/// # Safety
/// `handler` must be an `extern "C"` function of the signature `flags` asks for
/// (three arguments with SA_SIGINFO, one without) that calls only
/// async-signal-safe functions.
unsafe fn handle_fatal_signals(handler: libc::sighandler_t, flags: libc::c_int) {
    for sig in FATAL {
        // SAFETY: `sa` is a zeroed sigaction filled with the caller's handler,
        // which the caller vouches for; sigaction only reads it.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = handler;
            sa.sa_flags = flags | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// Opens `path` for the evidence and installs the handler for the [`FATAL`]
/// signals.
pub fn install(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::fd::IntoRawFd;
    let f = std::fs::File::create(path)?;
    FD.store(f.into_raw_fd(), Ordering::SeqCst);
    // SAFETY: `on_fatal` is an `extern "C"` function of the signature sigaction
    // expects without SA_SIGINFO; it only calls async-signal-safe functions
    // (write, fsync, signal, raise).
    unsafe { handle_fatal_signals(on_fatal as *const () as libc::sighandler_t, 0) };
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

/// How a contained run ended with a fatal signal: which, at what instruction, and
/// the address it touched (for SIGSEGV and SIGBUS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crash {
    /// The signal number.
    pub signal: i32,
    /// The address of the faulting instruction (0 if unknown).
    pub pc: u64,
    /// The faulting data address, `si_addr` (0 if the signal has none).
    pub addr: u64,
}

impl Crash {
    /// Whether the signal has a faulting data address (SIGSEGV, SIGBUS).
    pub fn has_address(&self) -> bool {
        matches!(self.signal, libc::SIGSEGV | libc::SIGBUS)
    }

    /// The signal's name (`SIGSEGV`, ...).
    pub fn signal_name(&self) -> String {
        match self.signal {
            libc::SIGSEGV => "SIGSEGV".into(),
            libc::SIGBUS => "SIGBUS".into(),
            libc::SIGILL => "SIGILL".into(),
            libc::SIGFPE => "SIGFPE".into(),
            libc::SIGABRT => "SIGABRT".into(),
            libc::SIGTRAP => "SIGTRAP".into(),
            n => format!("signal {n}"),
        }
    }
}

/// The write end of the pipe a contained child reports its crash on.
static CRASH_FD: AtomicI32 = AtomicI32::new(-1);

/// Runs `f` in a forked copy of this process, so that a fatal signal in it (JIT code
/// of a program with undefined behaviour, or a bug) ends the copy, not the caller.
/// The copy shares the caller's stdout and stderr; `f`'s value is its exit status.
/// Returns that status, or the [`Crash`] that ended it.
///
/// The caller must be single-threaded (the copy has only the forking thread) and
/// must not hold locks `f` needs. Addresses in the copy are the caller's, so the
/// caller can say where a crash's `pc` is (a compiled function, a library).
pub fn contain(f: impl FnOnce() -> i32) -> std::io::Result<Result<i32, Crash>> {
    use std::io::Write;
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a writable array of two ints, as pipe() requires.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: the caller is single-threaded (documented above), so the child is a
    // consistent copy; it only runs `f` and then leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if pid == 0 {
        // The child: report a fatal signal on the pipe, run, leave.
        CRASH_FD.store(fds[1], Ordering::SeqCst);
        // SAFETY: `on_contained_fatal` has the three-argument signature that
        // SA_SIGINFO asks for and calls only async-signal-safe functions.
        unsafe {
            handle_fatal_signals(
                on_contained_fatal as *const () as libc::sighandler_t,
                libc::SA_SIGINFO,
            )
        };
        let code = f();
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        // SAFETY: _exit ends the child without running the parent's exit handlers
        // and destructors a second time.
        unsafe { libc::_exit(code) }
    }
    // The parent.
    // SAFETY: closing our copy of the write end, which only the child uses.
    unsafe { libc::close(fds[1]) };
    let mut status = 0;
    // SAFETY: `pid` is our child and `status` a writable int.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    let mut record = [0u8; 24];
    let mut got = 0;
    while got < record.len() {
        // SAFETY: reading into the unfilled tail of `record` from our read end.
        let n = unsafe {
            libc::read(
                fds[0],
                record[got..].as_mut_ptr().cast(),
                record.len() - got,
            )
        };
        if n <= 0 {
            break;
        }
        got += n as usize;
    }
    // SAFETY: closing the read end, ours alone.
    unsafe { libc::close(fds[0]) };
    if waited < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if libc::WIFEXITED(status) {
        return Ok(Ok(libc::WEXITSTATUS(status)));
    }
    let word = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&record[i * 8..i * 8 + 8]);
        u64::from_ne_bytes(b)
    };
    let signal = if libc::WIFSIGNALED(status) {
        libc::WTERMSIG(status)
    } else {
        0
    };
    Ok(Err(if got == record.len() {
        Crash {
            signal: i32::try_from(word(0)).unwrap_or(signal),
            pc: word(1),
            addr: word(2),
        }
    } else {
        Crash {
            signal,
            pc: 0,
            addr: 0,
        }
    }))
}

extern "C" fn on_contained_fatal(
    sig: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo_t and ucontext_t to an SA_SIGINFO
    // handler; reading them and write() are async-signal-safe.
    unsafe {
        let addr = if info.is_null() {
            0
        } else {
            (*info).si_addr() as u64
        };
        let pc = if context.is_null() {
            0
        } else {
            let uc = context.cast::<libc::ucontext_t>();
            (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] as u64
        };
        let mut record = [0u8; 24];
        record[..8].copy_from_slice(&(sig as u64).to_ne_bytes());
        record[8..16].copy_from_slice(&pc.to_ne_bytes());
        record[16..].copy_from_slice(&addr.to_ne_bytes());
        let fd = CRASH_FD.load(Ordering::SeqCst);
        if fd >= 0 {
            libc::write(fd, record.as_ptr().cast(), record.len());
        }
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// The shared object (library or executable) holding `pc` and the nearest symbol
/// before it, if the dynamic loader knows one: `libc.so.6 (memcpy+0x1a)`.
pub fn native_location(pc: u64) -> Option<String> {
    // SAFETY: dladdr only reads the loader's tables and fills `info`, a writable
    // Dl_info; the C strings it points to are the loader's, alive while the
    // object is loaded, and read at once.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(pc as *const libc::c_void, &mut info) == 0 || info.dli_fname.is_null() {
            return None;
        }
        let file = std::ffi::CStr::from_ptr(info.dli_fname).to_string_lossy();
        let file = file.rsplit('/').next().unwrap_or_default().to_string();
        if info.dli_sname.is_null() {
            return Some(file);
        }
        let sym = std::ffi::CStr::from_ptr(info.dli_sname).to_string_lossy();
        Some(format!(
            "{file} ({sym}+{:#x})",
            pc.wrapping_sub(info.dli_saddr as u64)
        ))
    }
}
