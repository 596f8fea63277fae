//! Arbitrary bytes into the streaming frame decoder (checked against the naive
//! reference decoder) and into Command/Reply payload decoding.
//! The same body runs on stable in `tests/fuzz_body.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    neurofab_proto::fuzzing::decoder_body(data);
});
