//! Arbitrary bytes through the reader, the parsers, lowering, lint and
//! realisation: none of them may panic, whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schemagen::source::SourceFile;

fuzz_target!(|data: &[u8]| {
    let (file, _) = SourceFile::decode("fuzz.md", data);
    let (schema, _) = schemagen::build_schema(&[file], &Default::default());
    let _ = schemagen::lint::lint(&schema);
    let (realized, _) = schemagen::model::physical::realize(&schema, &Default::default());
    let _ = schemagen::lint::lint_realized(&realized);
});
