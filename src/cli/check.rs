//! `muni check`: parse and verify a bundle; diagnostics with `file:line:col`, a
//! stable code and a caret snippet.

use super::*;

/// Loads the files as one bundle and reports what it holds outside muni's subset
/// or why it does not load.
pub(crate) fn check(files: &[String]) -> ExitCode {
    match load_files(files) {
        Ok(l) if l.unsupported.is_empty() => ExitCode::SUCCESS,
        Ok(l) => {
            for d in &l.unsupported {
                eprint!("{}", d.render(&l.sources));
            }
            let n = l.unsupported.len();
            eprintln!(
                "{n} construct{} outside the subset muni executes",
                if n == 1 { "" } else { "s" }
            );
            ExitCode::FAILURE
        }
        Err(Ok(e)) => {
            eprint!("{}", e.render());
            eprintln!(
                "{} problem{} found",
                e.diags.len(),
                if e.diags.len() == 1 { "" } else { "s" }
            );
            ExitCode::FAILURE
        }
        Err(Err(msg)) => {
            eprintln!("{msg}");
            ExitCode::FAILURE
        }
    }
}
