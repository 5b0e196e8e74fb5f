//! What every binary of the fuzz crate does with its target: under AFL++
//! (feature `afl`, built by `cargo afl build`), run it in persistent mode;
//! otherwise replay the files and directories given as arguments through
//! it, without instrumentation, and report every input that panics (exit
//! status 1 if one did). The targets themselves are in
//! `switchd/src/fuzz.rs`.

use std::path::{Path, PathBuf};

/// Runs `target` as the binary's `main`: fuzzing under AFL++, replaying
/// otherwise.
pub fn run(target: fn(&[u8])) {
    #[cfg(feature = "afl")]
    afl::fuzz!(|data: &[u8]| target(data));
    #[cfg(not(feature = "afl"))]
    replay(target);
}

/// Every file under `path` (itself if it is a file), sorted.
fn files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        entries.sort();
        for e in entries {
            files(&e, out);
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    }
}

/// Replays the inputs named on the command line; exits 1 if any panicked.
#[cfg_attr(feature = "afl", allow(dead_code))]
fn replay(target: fn(&[u8])) {
    let mut inputs = Vec::new();
    for arg in std::env::args_os().skip(1) {
        files(Path::new(&arg), &mut inputs);
    }
    if inputs.is_empty() {
        eprintln!(
            "usage: {} FILE|DIR... (replays each input through the target)",
            env_name()
        );
        std::process::exit(2);
    }
    let mut failed = 0;
    for f in &inputs {
        let Ok(data) = std::fs::read(f) else { continue };
        if std::panic::catch_unwind(|| target(&data)).is_err() {
            eprintln!("PANIC on {}", f.display());
            failed += 1;
        }
    }
    println!(
        "{}: {} inputs replayed, {failed} panicked",
        env_name(),
        inputs.len()
    );
    if failed > 0 {
        std::process::exit(1);
    }
}

fn env_name() -> String {
    std::env::args()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default()
}
