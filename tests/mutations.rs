//! Property test: the real documents, mutated the way documents get broken
//! (rows cut, cells swapped, pipes dropped, unicode inserted, sections
//! duplicated), never make the reader panic; they always give a model or
//! diagnostics, and the CLI exits 0, 1 or 2.

mod support;

use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Mutation {
    CutRow(usize),
    SwapCells(usize),
    DropPipes(usize),
    InsertUnicode(usize, char),
    DuplicateSection(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::CutRow),
        any::<usize>().prop_map(Mutation::SwapCells),
        any::<usize>().prop_map(Mutation::DropPipes),
        (any::<usize>(), any::<char>()).prop_map(|(at, c)| Mutation::InsertUnicode(at, c)),
        any::<usize>().prop_map(Mutation::DuplicateSection),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for m in mutations {
        if lines.is_empty() {
            break;
        }
        let pick = |i: usize| i % lines.len();
        match *m {
            Mutation::CutRow(i) => {
                lines.remove(pick(i));
            }
            Mutation::SwapCells(i) => {
                let at = pick(i);
                let mut cells: Vec<&str> = lines[at].split('|').collect();
                if cells.len() > 3 {
                    cells.swap(1, 2);
                }
                lines[at] = cells.join("|");
            }
            Mutation::DropPipes(i) => {
                let at = pick(i);
                lines[at] = lines[at].replacen('|', "", 2);
            }
            Mutation::InsertUnicode(i, c) => {
                let at = pick(i);
                let line = &mut lines[at];
                let position = line
                    .char_indices()
                    .map(|(k, _)| k)
                    .nth(i % (line.chars().count() + 1))
                    .unwrap_or(line.len());
                line.insert(position, c);
            }
            Mutation::DuplicateSection(i) => {
                let start = pick(i);
                let end = (start + 40).min(lines.len());
                let copy: Vec<String> = lines[start..end].to_vec();
                lines.splice(end..end, copy);
            }
        }
    }
    lines.join("\n")
}

fn documents() -> Vec<String> {
    [support::JAVARI, support::MASTER]
        .iter()
        .map(|p| std::fs::read_to_string(support::root().join(p)).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn mutated_documents_give_a_model_or_diagnostics(which in 0usize..2, mutations in proptest::collection::vec(mutation(), 1..30)) {
        let text = apply(&documents()[which], &mutations);
        let (schema, diagnostics) = support::lint_bytes("mutated.md", text.as_bytes());
        prop_assert!(!schema.tables.is_empty() || !diagnostics.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn the_cli_exits_0_1_or_2_on_mutated_documents(which in 0usize..2, mutations in proptest::collection::vec(mutation(), 1..30)) {
        let dir = tempfile::tempdir().unwrap();
        let doc = dir.path().join("mutated.md");
        std::fs::write(&doc, apply(&documents()[which], &mutations)).unwrap();
        for command in [&["lint", "--deny", "warnings", "--docs"][..], &["schema", "--docs"][..]] {
            let status = std::process::Command::new(env!("CARGO_BIN_EXE_gen"))
                .current_dir(dir.path())
                .args(command)
                .arg(&doc)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            prop_assert!(matches!(status.code(), Some(0..=2)), "{command:?}: {status:?}");
        }
    }
}
