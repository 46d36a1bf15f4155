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
