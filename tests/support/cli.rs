//! Running the `gen` binary in a project, as a user would, and showing what
//! it printed when an assertion fails.

use std::path::Path;
use std::process::Output;

/// `gen ARGS` in `project`, without colour and without a `DATABASE_URL`
/// from the environment.
pub fn gen_in(project: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gen"))
        .current_dir(project)
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .args(args)
        .output()
        .expect("run gen")
}

/// The exit code, stdout and stderr, for a failure message.
pub fn text(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
