//! C libraries that tests and runs need (`//! clib:` in a corpus script, the
//! difftest library, the benchmark kernels), built by gcc once and kept in a cache
//! keyed by their source, so that repeated runs neither rebuild them nor leave a
//! directory behind each time.
//!
//! The cache is `$MUNI_CACHE_DIR`, else `$XDG_CACHE_HOME/muni`, else
//! `$HOME/.cache/muni`: a directory of the user's own, not a shared `/tmp` path
//! another user could plant a library in. Without any of them it is a private
//! `muni-cache-UID` in the temp directory.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// What gcc is given besides the source and output.
const GCC_FLAGS: &[&str] = &["-O2", "-shared", "-fPIC"];

/// muni's cache directory.
fn cache_dir() -> Result<PathBuf, String> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    match env("MUNI_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("muni")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("muni")))
    {
        Some(d) => Ok(d),
        None => private_temp_dir(),
    }
}

/// Without a home: `muni-cache-UID` in the temp directory, made private to this
/// user, and refused if someone else owns it or can write to it.
fn private_temp_dir() -> Result<PathBuf, String> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let uid = std::fs::metadata("/proc/self")
        .map_err(|e| format!("/proc/self: {e}"))?
        .uid();
    let dir = std::env::temp_dir().join(format!("muni-cache-{uid}"));
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    let m = std::fs::symlink_metadata(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !m.is_dir() || m.uid() != uid || m.mode() & 0o022 != 0 {
        return Err(format!(
            "{} is not a private directory of this user: set MUNI_CACHE_DIR",
            dir.display()
        ));
    }
    Ok(dir)
}

/// Builds `source` (C) with gcc into `lib{name}-{hash}.so` in the cache and returns
/// its path; a library already built from the same source is reused. Concurrent
/// builders (processes or threads) each write a file of their own and rename it
/// into place.
pub fn build(name: &str, source: &str) -> Result<PathBuf, String> {
    build_in(&cache_dir()?, name, source)
}

fn build_in(cache: &Path, name: &str, source: &str) -> Result<PathBuf, String> {
    let mut h = DefaultHasher::new();
    GCC_FLAGS.hash(&mut h);
    source.hash(&mut h);
    let key = format!("{name}-{:016x}", h.finish());
    let dir = cache.join("clib");
    let lib = dir.join(format!("lib{key}.so"));
    if lib.is_file() {
        return Ok(lib);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // A name no other process or thread is building under.
    static BUILDS: AtomicU64 = AtomicU64::new(0);
    let me = format!(
        "{}-{}",
        std::process::id(),
        BUILDS.fetch_add(1, Ordering::Relaxed)
    );
    let src = dir.join(format!(".{key}.{me}.c"));
    let tmp = dir.join(format!(".lib{key}.{me}.so"));
    std::fs::write(&src, source).map_err(|e| format!("{}: {e}", src.display()))?;
    let status = Command::new("gcc")
        .args(GCC_FLAGS)
        .arg("-o")
        .arg(&tmp)
        .arg(&src)
        .status();
    let _ = std::fs::remove_file(&src);
    let built = match status {
        Ok(s) if s.success() => {
            std::fs::rename(&tmp, &lib).map_err(|e| format!("{}: {e}", lib.display()))
        }
        Ok(_) => Err(format!("gcc could not build the C library `{name}`")),
        Err(e) => Err(format!("cannot run gcc: {e}")),
    };
    if built.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    built.map(|()| lib)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same source gives the same library, built once; another source another.
    #[test]
    fn builds_once_per_source() {
        let dir = std::env::temp_dir().join(format!("muni-clib-test-{}", std::process::id()));
        let a = build_in(&dir, "t", "int muni_t(void) { return 1; }\n").expect("builds");
        let modified = std::fs::metadata(&a).and_then(|m| m.modified()).ok();
        let again = build_in(&dir, "t", "int muni_t(void) { return 1; }\n").expect("builds");
        assert_eq!(a, again);
        assert_eq!(
            modified,
            std::fs::metadata(&again).and_then(|m| m.modified()).ok()
        );
        let b = build_in(&dir, "t", "int muni_t(void) { return 2; }\n").expect("builds");
        assert_ne!(a, b);
        let bad = build_in(&dir, "bad", "this is not C\n");
        assert!(bad.is_err());
        // Only the two libraries are left: no sources, no half-built files.
        let mut left: Vec<_> = std::fs::read_dir(dir.join("clib"))
            .expect("cache exists")
            .map(|e| e.expect("entry").file_name())
            .collect();
        left.sort();
        assert_eq!(left.len(), 2, "{left:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
