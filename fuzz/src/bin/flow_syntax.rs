//! The `flow_syntax` target (`switchd::fuzz::flow_syntax`, which says what it drives and
//! its input layout) as an AFL++ binary or a replayer; see `src/lib.rs`.

fn main() {
    switchd_fuzz::run(switchd::fuzz::flow_syntax);
}
