//! The native boundary: reading and writing memory the model does not own.
//!
//! Memory outside Mu (malloc'd by C, libc's data) is accessed for real and not
//! checked (decisions.md). An address that is not mapped would crash a real
//! program; the model must not crash, so it copies through `process_vm_readv` /
//! `process_vm_writev` on its own process, which report an unmapped address as an
//! error instead of faulting (`ptr.unmapped`).

/// Reads `buf.len()` bytes at `addr`. False if some byte is not mapped readable.
pub fn read(addr: u64, buf: &mut [u8]) -> bool {
    if buf.is_empty() {
        return true;
    }
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as usize as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: `local` describes `buf`, which we own for the call's duration; the
    // kernel validates `remote` and returns -1/EFAULT rather than faulting.
    let n = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
    n == buf.len() as isize
}

/// Writes `data` at `addr`. False if some byte is not mapped writable.
pub fn write(addr: u64, data: &[u8]) -> bool {
    if data.is_empty() {
        return true;
    }
    let local = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as usize as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: `local` describes `data`, which the kernel only reads; the kernel
    // validates `remote` and returns -1/EFAULT rather than faulting.
    let n = unsafe { libc::process_vm_writev(libc::getpid(), &local, 1, &remote, 1, 0) };
    n == data.len() as isize
}

use crate::ir::{SigId, Type, TypeId, Types};
use libffi::low::{self, CodePtr, ffi_cif, ffi_closure};
use libffi::middle::{Arg, Cif, Ret, Type as FfiType};
use std::cell::Cell;
use std::ffi::{CStr, CString, c_void};

/// `dlopen`s a shared library with `RTLD_GLOBAL`, so that its symbols resolve like
/// the process's own (`muni run --lib PATH.so`).
pub fn load_library(path: &str) -> Result<(), String> {
    let c = CString::new(path).map_err(|_| format!("{path}: a path without NUL bytes"))?;
    // SAFETY: `c` is a valid C string; dlopen runs the library's initialisers, which
    // is what loading a library the user named means.
    let h = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if h.is_null() {
        // SAFETY: dlerror returns a valid C string or NULL.
        let msg = unsafe { libc::dlerror() };
        let why = if msg.is_null() {
            "unknown error".into()
        } else {
            // SAFETY: checked non-null just above; dlerror's string lives until the next dl call.
            unsafe { CStr::from_ptr(msg) }
                .to_string_lossy()
                .into_owned()
        };
        return Err(format!("cannot load {path}: {why}"));
    }
    Ok(())
}

/// The address of a C symbol in the process or a loaded library.
pub fn symbol(name: &str) -> Option<u64> {
    let c = CString::new(name).ok()?;
    // SAFETY: `c` is a valid C string; RTLD_DEFAULT searches the global scope.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c.as_ptr()) };
    (!p.is_null()).then_some(p as u64)
}

/// The name of the symbol at exactly `addr`, if the dynamic linker knows one.
pub fn symbol_name(addr: u64) -> Option<String> {
    let mut info = libc::Dl_info {
        dli_fname: std::ptr::null(),
        dli_fbase: std::ptr::null_mut(),
        dli_sname: std::ptr::null(),
        dli_saddr: std::ptr::null_mut(),
    };
    // SAFETY: dladdr only reads the address and fills `info`.
    let ok = unsafe { libc::dladdr(addr as usize as *const c_void, &mut info) };
    if ok == 0 || info.dli_sname.is_null() || info.dli_saddr as u64 != addr {
        return None;
    }
    // SAFETY: dli_sname was checked non-null and points into the loaded object's string table.
    Some(
        unsafe { CStr::from_ptr(info.dli_sname) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// The libffi type of a native-safe Mu type (`abi.classify` is libffi's to apply).
/// Arrays inside structs are flattened into their elements, which libffi lays out
/// and classifies identically. `None` for what libffi cannot express (an empty struct).
pub fn ffi_type(types: &Types, t: TypeId) -> Option<FfiType> {
    Some(match types.get(t) {
        Type::Int(n) => match n {
            0..=8 => FfiType::i8(),
            9..=16 => FfiType::i16(),
            17..=32 => FfiType::i32(),
            _ => FfiType::i64(),
        },
        Type::Float => FfiType::f32(),
        Type::Double => FfiType::f64(),
        Type::UPtr(_) | Type::UFuncPtr(_) => FfiType::pointer(),
        Type::Void => FfiType::void(),
        Type::Struct(_) => {
            let mut leaves = Vec::new();
            struct_fields(types, t, &mut leaves)?;
            if leaves.is_empty() {
                return None;
            }
            FfiType::structure(leaves)
        }
        _ => return None,
    })
}

fn struct_fields(types: &Types, t: TypeId, out: &mut Vec<FfiType>) -> Option<()> {
    match types.get(t) {
        Type::Struct(fs) => {
            let mut inner = Vec::new();
            for f in fs {
                match types.get(*f) {
                    Type::Array(e, n) => {
                        for _ in 0..*n {
                            inner.push(ffi_type(types, *e)?);
                        }
                    }
                    _ => inner.push(ffi_type(types, *f)?),
                }
            }
            out.extend(inner);
            Some(())
        }
        _ => None,
    }
}

/// A call interface for a signature.
pub fn cif(types: &Types, s: SigId) -> Option<Cif> {
    let sig = types.sig(s);
    let args: Option<Vec<FfiType>> = sig.params.iter().map(|t| ffi_type(types, *t)).collect();
    let ret = match sig.rets.first() {
        Some(t) => ffi_type(types, *t)?,
        None => FfiType::void(),
    };
    Cif::try_new(args?, ret).ok()
}

/// Bytes in 8-aligned storage, as libffi wants argument and result buffers.
fn words(bytes: &[u8]) -> Vec<u64> {
    let mut w = vec![0u64; bytes.len().div_ceil(8).max(1)];
    for (i, chunk) in bytes.chunks(8).enumerate() {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        w[i] = u64::from_le_bytes(b);
    }
    w
}

/// Calls the C function at `fp` with arguments already encoded in their native
/// layout; returns the result's bytes (`ret_size` of them).
///
/// `ccall.al`: the callee gets in `%al` the number of vector registers the
/// arguments use, as a variadic C function needs. libffi does it on every call,
/// variadic cif or not: `ffi_call_int` (src/x86/ffi64.c of the bundled libffi
/// 3.5.2) stores the count of SSE registers it loaded in `reg_args->rax`, and
/// `ffi_call_unix64` (src/x86/unix64.S) loads it with `movl 0xb0(%r10), %eax`
/// before `call *%r11`. Eightbytes it passes on the stack are not counted.
///
/// # Safety
/// `fp` must be a function whose C signature matches `cif`; the arguments must be
/// valid for it (pointers it dereferences must point to memory it may use).
pub unsafe fn call(cif: &Cif, fp: u64, args: &[Vec<u8>], ret_size: usize) -> Vec<u8> {
    let bufs: Vec<Vec<u64>> = args.iter().map(|a| words(a)).collect();
    let argv: Vec<Arg> = bufs.iter().map(|b| Arg::new(&b[..])).collect();
    let mut ret = vec![0u64; ret_size.div_ceil(8).max(2)];
    // SAFETY: the caller guarantees that `fp` matches `cif`; each argument buffer
    // holds its argument's bytes, 8-aligned; `ret` is large enough for the result
    // (and for a widened small integer).
    unsafe {
        cif.call_return_into(
            CodePtr(fp as usize as *mut c_void),
            &argv,
            Ret::new(&mut ret[..]),
        )
    };
    let mut out: Vec<u8> = ret.iter().flat_map(|w| w.to_le_bytes()).collect();
    out.truncate(ret_size);
    out
}

thread_local! {
    /// The machine running on this thread while it is inside a CCALL, so that a
    /// callback from C can re-enter it (as refimpl2, callbacks are legal only then).
    static CURRENT: Cell<*mut c_void> = const { Cell::new(std::ptr::null_mut()) };
}

/// Runs `f` with `machine` registered as the one C may call back into.
pub fn with_current<T>(machine: *mut c_void, f: impl FnOnce() -> T) -> T {
    let prev = CURRENT.with(|c| c.replace(machine));
    let r = f();
    CURRENT.with(|c| c.set(prev));
    r
}

/// The machine C may call back into now, if any.
pub fn current() -> *mut c_void {
    CURRENT.with(|c| c.get())
}

/// What a callback needs to know about its exposure.
#[derive(Debug)]
pub struct ExposeData {
    /// The exposed function.
    pub func: u32,
    /// Its signature.
    pub sig: SigId,
    /// The cookie.
    pub cookie: u64,
    /// How to run it: set by the machine, called with the data, the argument
    /// pointers and the result buffer.
    pub run: unsafe fn(&ExposeData, *const *const c_void, *mut u8),
}

/// A C function pointer that calls into Mu: a libffi closure. Freed when dropped.
#[derive(Debug)]
pub struct Exposure {
    closure: *mut ffi_closure,
    code: u64,
    _cif: Box<Cif>,
    _data: Box<ExposeData>,
}

unsafe extern "C" fn trampoline(
    _cif: &ffi_cif,
    result: &mut u64,
    args: *const *const c_void,
    data: &mut ExposeData,
) {
    // SAFETY: libffi passes the argument pointers and a result buffer sized for the
    // signature's result; `run` was set by the machine for exactly this signature.
    unsafe { (data.run)(data, args, (result as *mut u64).cast()) }
}

impl Exposure {
    /// Makes a C function pointer with the signature `cif` that runs `data`.
    pub fn new(cif: Cif, data: ExposeData) -> Option<Exposure> {
        let mut cif = Box::new(cif);
        let mut data = Box::new(data);
        let (closure, code) = low::try_closure_alloc()?;
        // SAFETY: `closure` was just allocated for this; `cif` and `data` are boxed
        // and owned by the returned Exposure, so they outlive the closure, which
        // Drop frees first.
        let ok = unsafe {
            low::prep_closure_mut(
                closure,
                cif.as_raw_ptr(),
                trampoline,
                &mut *data as *mut ExposeData,
                code,
            )
        };
        if ok.is_err() {
            // SAFETY: allocated above and not handed out.
            unsafe { low::closure_free(closure) };
            return None;
        }
        let _ = &mut cif;
        Some(Exposure {
            closure,
            code: code.0 as u64,
            _cif: cif,
            _data: data,
        })
    }

    /// The C function pointer.
    pub fn code(&self) -> u64 {
        self.code
    }

    /// The Mu function it runs.
    pub fn func(&self) -> u32 {
        self._data.func
    }
}

impl Drop for Exposure {
    fn drop(&mut self) {
        // SAFETY: the closure was allocated by closure_alloc and is freed once.
        unsafe { low::closure_free(self.closure) };
    }
}
