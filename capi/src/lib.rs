//! muni as a library for C clients: the Mu C API (shared/mu-spec/muapi.h,
//! uvm-client-interface.rest) over either engine (spec/13-c-api.md).
//!
//! A client links three symbols, `muni_new_vm`, `muni_execute` and
//! `muni_close_vm` (`include/muni.h`), and reaches everything else through the
//! `MuVM` and `MuCtx` tables of function pointers, whose fields follow muapi.h in
//! order and in signature; muni's error channel comes after them. Both the header
//! and the Rust tables are made from one description, `api/muapi.txt`
//! ([`generate`]).

pub mod generate;
pub mod imp;

/// The interface tables, made by build.rs from api/muapi.txt.
pub mod tables {
    // Generated: one `Option<fn>` per field, spelled out as muapi.h has it.
    #![allow(clippy::missing_safety_doc, clippy::type_complexity, unused_imports)]
    use std::ffi::{c_char, c_int, c_void};

    /// `MuValue` and its subtypes: an opaque handle.
    pub type MuValue = *mut c_void;
    /// `MuCFP`: `void (*)()`.
    pub type MuCFP = Option<unsafe extern "C" fn()>;
    /// `MuValuesFreer`.
    pub type MuValuesFreer = Option<unsafe extern "C" fn(*mut MuValue, *mut c_void)>;
    /// `MuTrapHandler`.
    pub type MuTrapHandler = Option<
        unsafe extern "C" fn(
            *mut MuCtx,
            MuValue,
            MuValue,
            u32,
            *mut u32,
            *mut MuValue,
            *mut *mut MuValue,
            *mut usize,
            *mut MuValuesFreer,
            *mut *mut c_void,
            *mut MuValue,
            *mut c_void,
        ),
    >;
    include!(concat!(env!("OUT_DIR"), "/tables.rs"));
}

pub use imp::{muni_close_vm, muni_execute, muni_new_vm};
