//! Arbitrary bytes through the reader, the parsers, lowering, lint and
//! realisation (the whole `Project`): none of them may panic, whatever the
//! input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schemagen::source::SourceFile;

fuzz_target!(|data: &[u8]| {
    let (file, diagnostics) = SourceFile::decode("fuzz.md", data);
    let _ = schemagen::Project::from_files(vec![file], diagnostics, &Default::default());
});
