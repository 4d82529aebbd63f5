//! The code tables: every diagnostic code the tool can emit, declared once
//! as a row of (variant, kebab-case string, default severity, one-line doc).
//! One `code_table!` invocation per table generates the enum, `ALL`,
//! `as_str`, `default_severity` and `doc`, so adding a code touches one row
//! and the list, the strings and the docs cannot drift apart. The README's
//! code tables are checked against these rows by `tests/codes.rs`.
//!
//! Drift kinds (`gen check`) are a table of their own here rather than in
//! `diff`, so that `diag` imports nothing else from the crate: `diff`
//! re-exports [`DriftKind`] from this module.

use super::Severity;
use std::fmt;

/// Declares one code table. Each row is
/// `Variant: "kebab-string", DefaultSeverity, "one-line doc";`.
///
/// A table may start with one wrapping variant, `Wrapper(InnerTable)`,
/// whose inner type is itself a code table: its codes become codes of this
/// table (listed after this table's own in `ALL`) and its strings, severities
/// and docs are the inner table's. The wrapping variant must carry a doc
/// comment: the leading `#` is what tells it apart from a row, since
/// `macro_rules!` cannot look past the first identifier to decide.
macro_rules! code_table {
    (
        $(#[$enum_meta:meta])*
        pub enum $Enum:ident {
            $(
                $(#[$wrapper_meta:meta])+
                $Wrapper:ident($Inner:ident),
            )?
            $(
                $Variant:ident: $string:literal, $severity:ident, $doc:literal;
            )+
        }
    ) => {
        $(#[$enum_meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $Enum {
            $(
                $(#[$wrapper_meta])*
                $Wrapper($Inner),
            )?
            $(
                #[doc = $doc]
                $Variant,
            )+
        }

        impl $Enum {
            /// Every code of the table, in declaration order, followed by
            /// the codes of a wrapped table.
            pub const ALL: &'static [$Enum] = {
                const OWN: &[$Enum] = &[$($Enum::$Variant),+];
                code_table!(@all $Enum, OWN $(, $Wrapper, $Inner)?)
            };

            /// The stable kebab-case string machines match on.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $Enum::$Wrapper(inner) => inner.as_str(), )?
                    $( $Enum::$Variant => $string, )+
                }
            }

            /// The severity the code is usually reported at. A few producers
            /// report a code at another severity where the case is milder
            /// (an `unparsed-sql` statement the model ignores is info).
            pub const fn default_severity(self) -> Severity {
                match self {
                    $( $Enum::$Wrapper(inner) => inner.default_severity(), )?
                    $( $Enum::$Variant => Severity::$severity, )+
                }
            }

            /// One line for people: what the code means.
            pub const fn doc(self) -> &'static str {
                match self {
                    $( $Enum::$Wrapper(inner) => inner.doc(), )?
                    $( $Enum::$Variant => $doc, )+
                }
            }
        }

        impl fmt::Display for $Enum {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        // Serialised as the kebab-case string, so JSON output and the table
        // spell a code the same way.
        impl serde::Serialize for $Enum {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };

    (@all $Enum:ident, $own:ident) => {
        $own
    };

    (@all $Enum:ident, $own:ident, $Wrapper:ident, $Inner:ident) => {{
        const COUNT: usize = $own.len() + $Inner::ALL.len();
        const ALL: [$Enum; COUNT] = {
            let mut all = [$own[0]; COUNT];
            let mut index = 0;
            while index < $own.len() {
                all[index] = $own[index];
                index += 1;
            }
            let mut inner = 0;
            while inner < $Inner::ALL.len() {
                all[index + inner] = $Enum::$Wrapper($Inner::ALL[inner]);
                inner += 1;
            }
            all
        };
        &ALL
    }};
}

code_table! {
    /// Kinds of drift between a live database and the documents, as
    /// `gen check` reports them. The doc column is the item's title, the
    /// few words that go into its message. Drift is always an error: the
    /// database does not match what the documents promise.
    pub enum DriftKind {
        MissingTable: "missing-table", Error, "table missing from the database";
        UndocumentedTable: "undocumented-table", Error, "table not in the documents";
        MissingColumn: "missing-column", Error, "column missing from the database";
        UndocumentedColumn: "undocumented-column", Error, "column not in the documents";
        TypeMismatch: "type-mismatch", Error, "type differs";
        NullabilityMismatch: "nullability-mismatch", Error, "nullability differs";
        DefaultMismatch: "default-mismatch", Error, "default differs";
        MissingConstraint: "missing-constraint", Error, "constraint missing from the database";
        UndocumentedConstraint: "undocumented-constraint", Error, "constraint not in the documents";
        ConstraintDiffers: "constraint-differs", Error, "constraint differs";
        MissingForeignKey: "missing-foreign-key", Error, "foreign key missing from the database";
        UndocumentedForeignKey: "undocumented-foreign-key", Error, "foreign key not in the documents";
        ForeignKeyDiffers: "foreign-key-differs", Error, "foreign key differs";
        MissingIndex: "missing-index", Error, "index missing from the database";
        UndocumentedIndex: "undocumented-index", Error, "index not in the documents";
        IndexDiffers: "index-differs", Error, "index differs";
        RlsDisabled: "rls-disabled", Error, "row level security is disabled";
        RlsNotDocumented: "rls-not-documented", Error, "row level security enabled but not documented";
        MissingPolicy: "missing-policy", Error, "policy missing from the database";
        UndocumentedPolicy: "undocumented-policy", Error, "policy not in the documents";
        PolicyDiffers: "policy-differs", Error, "policy differs";
        CommentDiffers: "comment-differs", Error, "comment differs";
        MissingFunction: "missing-function", Error, "function missing from the database";
        UndocumentedFunction: "undocumented-function", Error, "function not in the documents";
        MissingTrigger: "missing-trigger", Error, "trigger missing from the database";
        UndocumentedTrigger: "undocumented-trigger", Error, "trigger not in the documents";
        MissingExtension: "missing-extension", Error, "extension missing from the database";
    }
}

impl DriftKind {
    /// The stable kebab-case code, as in `Code::Drift(kind).as_str()`.
    pub const fn code(self) -> &'static str {
        self.as_str()
    }

    /// A few words for people: the table's doc column.
    pub const fn title(self) -> &'static str {
        self.doc()
    }
}

code_table! {
    /// Every diagnostic code the tool can emit. A closed enum so that codes
    /// are stable, documented in one place and impossible to misspell. The
    /// order of the rows is the order codes sort in (after file and line),
    /// so a new code goes at the end.
    pub enum Code {
        /// A difference between the documents and a live database (`gen check`).
        Drift(DriftKind),
        InvalidUtf8: "invalid-utf8", Error,
            "the file is not UTF-8; the message names the byte offset (exit 2)";
        MojibakeRepaired: "mojibake-repaired", Info,
            "UTF-8 read as Windows-1252 was repaired; one per file, with the count";
        ColumnCountMismatch: "column-count-mismatch", Warning,
            "a section's `(K columns)` disagrees with its rows";
        RowCellCountMismatch: "row-cell-count-mismatch", Warning,
            "a table row has a different number of cells from its header";
        ConflictingDefinition: "conflicting-definition", Warning,
            "a table is documented twice, differently; the earlier source wins";
        UndocumentedFkTarget: "undocumented-fk-target", Warning,
            "an FK points at a table whose columns are not documented";
        NameOnlyTable: "name-only-table", Info,
            "a table is named (mapping, prose, FK) but not documented";
        MirrorPlaceholder: "mirror-placeholder", Warning,
            "a placeholder row such as `[... mirror properties table ...]`";
        NamingConvention: "naming-convention", Info,
            "breaks the documents' own conventions (plural snake_case tables, `_id` FKs, `is_/has_/can_` booleans)";
        ClaimedTotalMismatch: "claimed-total-mismatch", Warning,
            "a claimed total (`Total Tables: 289`, `Tables Used (37)`, `(33 Tables)`) disagrees with what is there";
        UnparsedSql: "unparsed-sql", Warning,
            "a SQL statement sqlparser cannot read (info: a statement the model ignores)";
        UnknownTableColumn: "unknown-table-column", Warning,
            "a column table has a header the reader does not know; its cells are ignored";
        InvalidDefault: "invalid-default", Warning,
            "a `Default` cell is not one SQL expression; the column gets no default";
        UnknownType: "unknown-type", Warning,
            "a type that is not a known PostgreSQL type";
        InvalidIdentifier: "invalid-identifier", Error,
            "a table or column name that is not a plain identifier; it is left out";
        MissingFk: "missing-fk", Info,
            "an `_id` column with no FK text; a suggestion, never an invented FK";
        InvalidJsonExample: "invalid-json-example", Warning,
            "a documented JSON structure that does not parse";
        UnattachedJsonExample: "unattached-json-example", Info,
            "a JSON example names a table but no jsonb column it could describe";
        UnknownTable: "unknown-table", Warning,
            "the configuration names a table no document has";
        UnknownColumn: "unknown-column", Warning,
            "the configuration names a column no document has";
        DuplicateColumn: "duplicate-column", Warning,
            "a column listed twice in one table";
        UnreadableNote: "unreadable-note", Warning,
            "an index or relationship note the reader cannot interpret";
        ConfigOverride: "config-override", Info,
            "a column corrected by the configuration";
        RlsNoPolicy: "rls-no-policy", Info,
            "a table with RLS and no policy: deny-all";
        PolicyUnknownColumn: "policy-unknown-column", Error,
            "a policy references a column its table does not have";
        RlsRuleUnreadable: "rls-rule-unreadable", Warning,
            "a prose RLS rule or privacy note the grammar cannot read";
        PolicyWithoutRls: "policy-without-rls", Warning,
            "a policy on a table whose RLS is disabled";
        RouteWithoutMethod: "route-without-method", Info,
            "a documented route handler whose HTTP methods the documents do not give";
        StaleOutput: "stale-output", Error,
            "a committed output differs from what the documents render to (`gen check` without a URL)";
        MigrationsBehind: "migrations-behind", Error,
            "the documents changed and no migration captures it (`gen check`, `gen migrations --check`)";
        MigrationEdited: "migration-edited", Error,
            "a migration file was changed after it was generated";
        DestructiveChange: "destructive-change", Error,
            "a migration step has the `data-loss` hazard and it was not allowed (`--allow-hazard data-loss`)";
        PreflightFailsOnData: "preflight-fails-on-data", Error,
            "`gen apply`'s preflight counted rows a pending step would fail on";
        PreflightDataLoss: "preflight-data-loss", Error,
            "`gen apply`'s preflight counted rows or values a pending step would lose or change";
        PreflightNotMeasured: "preflight-not-measured", Info,
            "a preflight probe could not run (its table or column does not exist yet)";
        InvalidBackfill: "invalid-backfill", Warning,
            "a `**Backfill:**` line or `backfill` override that is not one SQL expression for a column of the table; the column gets no backfill";
        PossibleRename: "possible-rename", Warning,
            "a migration drops a column (or table) and adds one like it: a rename the documents do not mark";
    }
}

impl Code {
    /// Codes that mean the input itself could not be read as intended. The
    /// CLI maps them to exit code 2 rather than to a finding.
    pub fn is_input_error(self) -> bool {
        matches!(self, Code::InvalidUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_code_string_is_unique_and_kebab_case() {
        let mut seen = BTreeSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "`{text}` is declared twice");
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "`{text}` is not kebab-case"
            );
        }
    }

    #[test]
    fn all_lists_the_own_codes_then_every_drift_kind() {
        let drift: Vec<Code> = Code::ALL
            .iter()
            .copied()
            .filter(|c| matches!(c, Code::Drift(_)))
            .collect();
        let expected: Vec<Code> = DriftKind::ALL.iter().map(|&k| Code::Drift(k)).collect();
        assert_eq!(drift, expected);
        assert_eq!(Code::ALL.first(), Some(&Code::InvalidUtf8));
        assert_eq!(
            Code::ALL.last(),
            Some(&Code::Drift(DriftKind::MissingExtension))
        );
        assert_eq!(Code::ALL[30], Code::MigrationEdited);
    }

    #[test]
    fn drift_codes_serialise_as_their_strings() {
        for &kind in DriftKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.code().to_owned())
            );
            assert_eq!(Code::Drift(kind).as_str(), kind.code());
            assert_eq!(Code::Drift(kind).default_severity(), Severity::Error);
        }
    }
}
