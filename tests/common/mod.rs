//! Running the `muni` binary from the integration tests, in the repository root.

use std::process::Command;

/// Exit code, standard output and standard error of `muni ARGS`.
pub fn muni(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_muni"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("muni runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Exit code and standard output of `muni ARGS`.
#[allow(dead_code)] // Not every test binary uses both forms.
pub fn muni_out(args: &[&str]) -> (i32, String) {
    let (code, out, _) = muni(args);
    (code, out)
}
