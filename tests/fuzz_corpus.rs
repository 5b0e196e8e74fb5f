//! The fuzz targets' CI slice (issue 19): every seed of `fuzz/corpus/` and
//! a few thousand deterministic mutations of them go through every target
//! of `switchd::fuzz` on each `cargo test`, without AFL++ or root, in
//! seconds. What a long coverage-guided run (`scripts/fuzz.sh`) found and
//! was fixed stays fixed: its minimal input is a seed here.
//!
//! The mutations are AFL's havoc in miniature (bit flips, interesting
//! values, inserted, deleted and duplicated bytes, cuts, splices of two
//! seeds), from a fixed xorshift seed per target, so a failure names an
//! input that fails again. `SWITCHD_FUZZ_MUTATIONS=N` changes how many
//! per target (default 3000).

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

mod common;

use common::Rng;

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.expect("corpus entry").path();
            let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), data)
        })
        .collect();
    out.sort();
    out
}

/// One to four havoc steps on `data`, `other` a second seed to splice from.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    const INTERESTING: [u8; 8] = [0, 1, 0x7f, 0x80, 0xff, 0x40, 0x10, 0x08];
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            3 => {
                let i = rng.below(len + 1);
                data.insert(i, rng.next() as u8);
            }
            4 if len > 1 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                data.drain(i..i + n);
            }
            5 => data.truncate(rng.below(len + 1)),
            6 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let chunk = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            _ if !other.is_empty() => {
                let cut = rng.below(len + 1);
                let from = rng.below(other.len());
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            _ => {}
        }
    }
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn seeds_and_mutations_pass_every_target() {
    let per_target: usize = std::env::var("SWITCHD_FUZZ_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    // The targets' own assertion messages are enough; a panic hook that
    // printed every caught panic would bury the summary.
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    for (name, target) in switchd::fuzz::TARGETS {
        let seeds = seeds(name);
        assert!(!seeds.is_empty(), "fuzz/corpus/{name} has no seeds");
        let mut run = |what: String, data: &[u8]| {
            if let Err(e) = panic::catch_unwind(AssertUnwindSafe(|| target(data))) {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{name} {what}: {msg}\n  input: {}", hex(data)));
            }
        };
        for (file, data) in &seeds {
            run(format!("seed {file}"), data);
        }
        let mut rng = Rng::seeded(0x9e37_79b9_7f4a_7c15 ^ name.bytes().fold(0, |h, b| h * 31 + u64::from(b)));
        for i in 0..per_target {
            let (_, base) = &seeds[rng.below(seeds.len())];
            let (_, other) = &seeds[rng.below(seeds.len())];
            let mut data = base.clone();
            mutate(&mut rng, &mut data, other);
            run(format!("mutation {i}"), &data);
        }
        println!("{name}: {} seeds, {per_target} mutations", seeds.len());
    }
    panic::set_hook(hook);
    assert!(
        failures.is_empty(),
        "{} inputs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The control seeds named `request-*` are requests `switchctl` could send:
/// each decodes, so the fuzzer starts from inside the protocol, not from
/// its error path.
#[test]
fn control_request_seeds_decode() {
    for (file, data) in seeds("control").iter().filter(|(f, _)| f.starts_with("request-")) {
        let line = data.strip_suffix(b"\n").unwrap_or(data);
        if let Err(e) = proto::codec::decode_request(line) {
            panic!("{file}: {e}");
        }
    }
}
