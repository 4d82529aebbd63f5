//! Synthetic documentation for benchmarks and robustness tests: a
//! deterministic generator that writes documents in the same formats as the
//! real ones (Markdown column tables with and without a Nullable column, SQL
//! blocks, index and RLS notes, enums, JSON structures, app mappings with
//! name-only tables, a duplicates table), with a realistic FK graph that has
//! some cycles. `cargo run --release --example synth -- --tables N --seed S`.

use std::fmt::Write;

#[derive(Debug, Clone, Copy)]
pub struct SynthOptions {
    pub tables: usize,
    pub seed: u64,
}

/// Generated documents: (file name, text), in precedence order.
pub struct Corpus {
    pub files: Vec<(String, String)>,
}

/// xorshift64*: small, fast and the same on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const MARKDOWN_TYPES: &[&str] = &[
    "varchar",
    "text",
    "integer",
    "bigint",
    "decimal",
    "boolean",
    "timestamptz",
    "date",
    "jsonb",
    "text[]",
    "uuid[]",
];
const SQL_TYPES: &[&str] = &[
    "TEXT",
    "VARCHAR(120)",
    "INTEGER",
    "BIGINT",
    "DECIMAL(10,2)",
    "BOOLEAN DEFAULT FALSE",
    "TIMESTAMPTZ",
    "DATE",
    "JSONB DEFAULT '{}'",
    "TEXT[]",
    "vector(8)",
];
const WORDS: &[&str] = &[
    "amount", "label", "score", "notes", "state", "region", "weight", "rank", "budget", "source",
    "title", "body", "level", "ratio", "color", "size",
];

fn table_name(i: usize) -> String {
    format!("entity_{i:05}_records")
}

/// Writes the corpus for `options`: the same options give the same files.
/// The phases below draw from one `Rng` in a fixed order, so reordering
/// them (or the draws inside them) changes every later document.
pub fn generate(options: &SynthOptions) -> Corpus {
    let mut rng = Rng::new(options.seed);
    let n = options.tables.max(1);
    let kinds = table_kinds(&mut rng, n);
    let mut markdown = String::new();
    let mut sql = String::new();
    let _ = writeln!(
        markdown,
        "# SYNTHETIC PLATFORM - Complete Schema Documentation\n\n**Total Tables:** {n}\n"
    );
    let _ = writeln!(
        sql,
        "# Synthetic Architecture\n\n```sql\nCREATE EXTENSION IF NOT EXISTS \"vector\";\n```\n"
    );
    let mut markdown_position = MarkdownPosition::default();
    for i in 0..n {
        let targets = foreign_key_targets(&mut rng, &kinds, i);
        let table = SynthTable {
            index: i,
            name: table_name(i),
            targets,
        };
        match kinds[i] {
            TABLE_IN_MARKDOWN => {
                write_markdown_table(&mut markdown, &mut rng, &mut markdown_position, &table)
            }
            TABLE_IN_SQL => write_sql_table(&mut sql, &mut rng, &table),
            _ => {}
        }
    }
    write_enums_and_json_structures(&mut markdown, &kinds);
    write_app_mappings(&mut markdown, n);
    write_duplicates_table(&mut markdown, n);
    Corpus {
        files: vec![
            ("synthetic-architecture.md".to_owned(), sql),
            ("synthetic-platform.md".to_owned(), markdown),
        ],
    }
}

/// A table documented in a Markdown section of the platform document.
const TABLE_IN_MARKDOWN: u8 = 0;
/// A table documented by a `CREATE TABLE` in the architecture document.
const TABLE_IN_SQL: u8 = 1;
/// A table only named in the app mappings, never documented.
const TABLE_ONLY_IN_MAPPINGS: u8 = 2;

/// How each of the `n` tables is documented: roughly 60% Markdown
/// sections, 30% SQL, 10% only named in mappings. Drawn first, because the
/// foreign keys must know which tables will never be documented.
fn table_kinds(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n)
        .map(|_| match rng.below(10) {
            0 => TABLE_ONLY_IN_MAPPINGS,
            1..=3 => TABLE_IN_SQL,
            _ => TABLE_IN_MARKDOWN,
        })
        .collect()
}

/// The tables table `i` references. FKs mostly point backwards (a DAG); a
/// few point forwards (cycles). None points at a table that is only named
/// in the mappings, since that one has no `id` column to reference.
fn foreign_key_targets(rng: &mut Rng, kinds: &[u8], i: usize) -> Vec<usize> {
    let n = kinds.len();
    let mut targets = Vec::new();
    for _ in 0..rng.below(3) {
        if i == 0 {
            break;
        }
        let target = if rng.chance(5) && i + 1 < n {
            i + 1 + rng.below((n - i - 1).min(20))
        } else {
            i - 1 - rng.below(i.min(30))
        };
        if kinds[target] != TABLE_ONLY_IN_MAPPINGS && !targets.contains(&target) {
            targets.push(target);
        }
    }
    targets
}

/// One table to document: its number, its name and the tables it
/// references.
struct SynthTable {
    index: usize,
    name: String,
    targets: Vec<usize>,
}

/// Where the Markdown document is: the module whose heading was written
/// last, and the number of the last section. Kept across tables because a
/// module heading is written only when the module changes.
#[derive(Default)]
struct MarkdownPosition {
    current_module: String,
    section: usize,
}

/// The module table `i` belongs to: fifty tables to a module.
fn module_of(i: usize) -> String {
    format!("module_{}", i / 50)
}

/// A Markdown section for one table (after its module's heading when the
/// module changes): a column table, with a Nullable column for every other
/// table so that both layouts the parser reads are exercised, then index
/// and RLS notes.
fn write_markdown_table(
    markdown: &mut String,
    rng: &mut Rng,
    position: &mut MarkdownPosition,
    table: &SynthTable,
) {
    let SynthTable {
        index: i,
        name,
        targets,
    } = table;
    let i = *i;
    if module_of(i) != position.current_module {
        position.current_module = module_of(i);
        let _ = writeln!(
            markdown,
            "# {} - Complete Schema Documentation\n## Module: {}\n",
            position.current_module.to_uppercase(),
            position.current_module
        );
    }
    position.section += 1;
    let section = position.section;
    let with_nullable = i % 2 == 0;
    let extra = 3 + rng.below(12);
    let columns = 4 + targets.len() + extra;
    let _ = writeln!(
        markdown,
        "## {section}. {} ({columns} columns)\n**Purpose:** Records of kind {i}\n**Used By:** Dashboard {}\n",
        name.to_uppercase(),
        i % 7
    );
    if with_nullable {
        markdown.push_str("| Column | Type | Nullable | Description |\n|--------|------|----------|-------------|\n| id | uuid | NO | Primary key |\n| user_id | uuid | NO | Owner |\n");
    } else {
        markdown.push_str("| Column | Type | Description |\n|--------|------|-------------|\n| id | uuid | Primary key |\n| user_id | uuid | Owner |\n");
    }
    for target in targets {
        let column = format!("{}_id", table_name(*target).trim_end_matches('s'));
        let fk = format!("FK to {}", table_name(*target));
        if with_nullable {
            let _ = writeln!(markdown, "| {column} | uuid | YES | {fk} |");
        } else {
            let _ = writeln!(markdown, "| {column} | uuid | {fk} |");
        }
    }
    for k in 0..extra {
        let ty = MARKDOWN_TYPES[rng.below(MARKDOWN_TYPES.len())];
        let word = WORDS[(i + k) % WORDS.len()];
        let description = if k == 0 {
            "active/paused/archived".to_owned()
        } else {
            format!("The {word}")
        };
        let column = if k == 0 {
            "status".to_owned()
        } else {
            format!("{word}_{k}")
        };
        let ty = if k == 0 { "varchar" } else { ty };
        if with_nullable {
            let _ = writeln!(
                markdown,
                "| {column} | {ty} | {} | {description} |",
                if rng.chance(30) { "NO" } else { "YES" }
            );
        } else {
            let _ = writeln!(markdown, "| {column} | {ty} | {description} |");
        }
    }
    if with_nullable {
        markdown.push_str("| created_at | timestamptz | NO | Created |\n\n");
    } else {
        markdown.push_str("| created_at | timestamptz | Created |\n\n");
    }
    let _ = writeln!(
        markdown,
        "**Indexes:**\n- PRIMARY KEY (id)\n- INDEX on user_id\n- INDEX on status, created_at\n\n**RLS Policies:**\n- Users: CRUD own {name}\n- Public: SELECT all {name}\n\n---\n"
    );
}

/// A `CREATE TABLE` block for one table, with its foreign keys, a CHECK
/// list (for enums), indexes and a policy, the way the architecture
/// document writes them.
fn write_sql_table(sql: &mut String, rng: &mut Rng, table: &SynthTable) {
    let SynthTable {
        index: i,
        name,
        targets,
    } = table;
    let i = *i;
    let _ = writeln!(
        sql,
        "**{name}**\n```sql\nCREATE TABLE {name} (\n  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),\n  user_id UUID NOT NULL,"
    );
    for target in targets {
        let _ = writeln!(
            sql,
            "  {}_id UUID REFERENCES {}(id) ON DELETE {},",
            table_name(*target).trim_end_matches('s'),
            table_name(*target),
            if rng.chance(50) {
                "CASCADE"
            } else {
                "SET NULL"
            }
        );
    }
    for k in 0..2 + rng.below(10) {
        let _ = writeln!(
            sql,
            "  {}_{k} {},",
            WORDS[(i + k) % WORDS.len()],
            SQL_TYPES[rng.below(SQL_TYPES.len())]
        );
    }
    let _ = writeln!(
        sql,
        "  kind TEXT DEFAULT 'a' CHECK (kind IN ('a', 'b', 'c')),\n  created_at TIMESTAMPTZ DEFAULT NOW()\n);\n\nCREATE INDEX idx_{name}_user_id ON {name}(user_id);\nCREATE INDEX idx_{name}_created_at ON {name}(created_at DESC);\n\nCREATE POLICY \"own {i}\" ON {name} FOR ALL USING (auth.uid() = user_id);\n```\n"
    );
}

/// Enums and JSON structures, the way the glossary part writes them, with
/// JSON examples attached to some of the tables documented in SQL.
fn write_enums_and_json_structures(markdown: &mut String, kinds: &[u8]) {
    let n = kinds.len();
    markdown.push_str("# ENUM VALUES REFERENCE\n\n## Record Status\n```\nactive, paused, archived\n```\n\n## Alert Priority\n```\nlow, medium, high, critical\n```\n\n# JSON/JSONB STRUCTURES\n\n");
    for i in (0..n)
        .filter(|i| kinds[*i] == TABLE_IN_SQL)
        .take(n / 20 + 1)
    {
        let _ = writeln!(
            markdown,
            "## Metadata ({})\n```json\n{{\"flags\": [\"a\", \"b\"], \"depth\": {i}, \"ratio\": 0.5}}\n```\n",
            table_name(i)
        );
    }
}

/// App mappings naming every table, including those only named here: the
/// only place the undocumented tenth of the tables appears.
fn write_app_mappings(markdown: &mut String, n: usize) {
    markdown.push_str("# APP-TO-TABLE MAPPING\n\n");
    for (app, chunk) in (0..n).collect::<Vec<_>>().chunks(40).enumerate() {
        let _ = writeln!(
            markdown,
            "# {}. APP-{app}\n\n## Tables Used ({})\n\n| Table | Read | Write | Purpose |\n|-------|------|-------|---------|",
            app + 1,
            chunk.len()
        );
        for i in chunk {
            let _ = writeln!(
                markdown,
                "| {} | ✅ | {} | Records {i} |",
                table_name(*i),
                if i % 3 == 0 { "❌" } else { "✅" }
            );
        }
        markdown.push('\n');
    }
}

/// The gaps analysis' duplicates table: every 97th table paired with the
/// next, for the consolidation outputs to read.
fn write_duplicates_table(markdown: &mut String, n: usize) {
    markdown.push_str("# GAPS ANALYSIS\n\n## 2. DUPLICATE/REDUNDANT TABLES\n\n| Tables | Recommendation |\n|--------|----------------|\n");
    for i in (0..n.saturating_sub(1)).step_by(97) {
        let _ = writeln!(
            markdown,
            "| `{}` vs `{}` | Consolidate to one |",
            table_name(i),
            table_name(i + 1)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_readable() {
        let a = generate(&SynthOptions {
            tables: 200,
            seed: 7,
        });
        let b = generate(&SynthOptions {
            tables: 200,
            seed: 7,
        });
        assert_eq!(a.files, b.files);
        let files: Vec<_> = a
            .files
            .iter()
            .map(|(name, text)| crate::source::SourceFile::decode(name.as_str(), text.as_bytes()).0)
            .collect();
        let project = crate::project::Project::from_files(files, Vec::new(), &Default::default());
        let (schema, diagnostics) = (project.documented(), project.diagnostics());
        assert_eq!(schema.tables.len(), 200);
        assert!(schema.documented_tables().count() > 150);
        let errors: Vec<_> = diagnostics
            .iter()
            .filter(|d| d.severity == crate::diag::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}
