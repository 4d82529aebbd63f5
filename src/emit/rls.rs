//! Row Level Security outputs: `rls/policies.sql` (idempotent: DROP POLICY IF
//! EXISTS, then CREATE POLICY, for every generated table) and the access
//! matrix, `reports/rls-matrix.md` and `.json`, derived from the policies:
//! for each table, each of anon / authenticated as the row's owner /
//! authenticated as another user / service_role, and each operation, whether
//! it is allowed, denied or filtered (and by what).

use super::{EmitContext, EmitError, Ending, OutputFile, OutputSink, TemplateOutput, render_into};
use crate::model::{Policy, PolicyCommand, Schema, Table};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Perspective {
    Anon,
    /// `authenticated`, acting on rows it owns.
    Owner,
    /// `authenticated`, acting on rows someone else owns.
    Other,
    ServiceRole,
}

impl Perspective {
    pub const ALL: [Perspective; 4] = [
        Perspective::Anon,
        Perspective::Owner,
        Perspective::Other,
        Perspective::ServiceRole,
    ];

    pub fn database_role(self) -> &'static str {
        match self {
            Perspective::Anon => "anon",
            Perspective::Owner | Perspective::Other => "authenticated",
            Perspective::ServiceRole => "service_role",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Perspective::Anon => "anon",
            Perspective::Owner => "authenticated (owner)",
            Perspective::Other => "authenticated (other user)",
            Perspective::ServiceRole => "service_role",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Select,
    Insert,
    Update,
    Delete,
}

impl Operation {
    pub const ALL: [Operation; 4] = [
        Operation::Select,
        Operation::Insert,
        Operation::Update,
        Operation::Delete,
    ];

    fn command(self) -> PolicyCommand {
        match self {
            Operation::Select => PolicyCommand::Select,
            Operation::Insert => PolicyCommand::Insert,
            Operation::Update => PolicyCommand::Update,
            Operation::Delete => PolicyCommand::Delete,
        }
    }
}

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "access", content = "filter", rename_all = "snake_case")]
pub enum Access {
    Allow,
    Deny,
    /// Allowed for the rows where the SQL condition holds.
    Filtered(String),
}

impl Access {
    fn label(&self) -> String {
        match self {
            Access::Allow => "allow".to_owned(),
            Access::Deny => "deny".to_owned(),
            Access::Filtered(f) => format!("filtered (`{f}`)"),
        }
    }

    /// Both conditions must hold (UPDATE and DELETE with a WHERE clause must
    /// also pass the SELECT policies).
    fn and(self, other: Access) -> Access {
        match (self, other) {
            (Access::Deny, _) | (_, Access::Deny) => Access::Deny,
            (Access::Allow, x) | (x, Access::Allow) => x,
            (Access::Filtered(a), Access::Filtered(b)) if a == b => Access::Filtered(a),
            (Access::Filtered(a), Access::Filtered(b)) => {
                Access::Filtered(format!("({a}) AND ({b})"))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixRow {
    pub table: String,
    pub rls_enabled: bool,
    pub documented: bool,
    pub cells: BTreeMap<Perspective, BTreeMap<Operation, Access>>,
}

/// What a policy expression means for one perspective.
#[derive(Debug, Clone, PartialEq)]
enum Filter {
    True,
    False,
    Sql(String),
}

/// `col = auth.uid()` (either way round) names the row's owner column.
pub fn owner_column(expression: &str) -> Option<String> {
    use sqlparser::ast::{BinaryOperator, Expr};
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;
    let mut parser = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(expression)
        .ok()?;
    let mut expr = parser.parse_expr().ok()?;
    while let Expr::Nested(inner) = expr {
        expr = *inner;
    }
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    } = expr
    else {
        return None;
    };
    let is_uid = |e: &Expr| {
        e.to_string()
            .replace(' ', "")
            .eq_ignore_ascii_case("auth.uid()")
    };
    match (left.as_ref(), right.as_ref()) {
        (Expr::Identifier(column), other) | (other, Expr::Identifier(column)) if is_uid(other) => {
            Some(column.value.clone())
        }
        _ => None,
    }
}

/// Remembers which expressions name an owner column: the matrix asks
/// about the same few expressions for every table, perspective and
/// operation, and each answer takes a SQL parse.
#[derive(Default)]
struct OwnerRules {
    owner: std::collections::HashMap<String, bool>,
}

impl OwnerRules {
    fn is_owner_rule(&mut self, expression: &str) -> bool {
        if let Some(&known) = self.owner.get(expression) {
            return known;
        }
        let found = owner_column(expression).is_some();
        self.owner.insert(expression.to_owned(), found);
        found
    }
}

fn classify(expression: &str, perspective: Perspective, rules: &mut OwnerRules) -> Filter {
    let trimmed = expression.trim();
    if trimmed.eq_ignore_ascii_case("true") {
        return Filter::True;
    }
    if rules.is_owner_rule(trimmed) {
        return match perspective {
            Perspective::Owner => Filter::True,
            _ => Filter::False,
        };
    }
    Filter::Sql(trimmed.to_owned())
}

/// The expression a policy applies to an operation, if it applies.
fn expression_for(policy: &Policy, operation: Operation) -> Option<&str> {
    if policy.command != PolicyCommand::All && policy.command != operation.command() {
        return None;
    }
    match operation {
        // INSERT checks the new row; an ALL policy with only USING uses it
        // for the check too, as PostgreSQL does.
        Operation::Insert => policy.with_check.as_deref().or(policy.using.as_deref()),
        _ => policy.using.as_deref(),
    }
}

fn policy_access(
    table: &Table,
    perspective: Perspective,
    operation: Operation,
    rules: &mut OwnerRules,
) -> Access {
    let role = perspective.database_role();
    let filters: Vec<Filter> = table
        .policies
        .iter()
        .filter(|p| p.permissive && (p.roles.is_empty() || p.roles.iter().any(|r| r == role)))
        .filter_map(|p| expression_for(p, operation))
        .map(|e| classify(e, perspective, rules))
        .collect();
    if filters.contains(&Filter::True) {
        return Access::Allow;
    }
    let conditions: Vec<String> = filters
        .into_iter()
        .filter_map(|f| match f {
            Filter::Sql(sql) => Some(sql),
            _ => None,
        })
        .collect();
    match conditions.len() {
        0 => Access::Deny,
        1 => Access::Filtered(conditions[0].clone()),
        _ => Access::Filtered(
            conditions
                .iter()
                .map(|c| format!("({c})"))
                .collect::<Vec<_>>()
                .join(" OR "),
        ),
    }
}

pub fn cell(table: &Table, perspective: Perspective, operation: Operation) -> Access {
    cell_with(table, perspective, operation, &mut OwnerRules::default())
}

fn cell_with(
    table: &Table,
    perspective: Perspective,
    operation: Operation,
    rules: &mut OwnerRules,
) -> Access {
    if perspective == Perspective::ServiceRole || !table.rls_enabled {
        // service_role has BYPASSRLS; without RLS, grants alone decide.
        return Access::Allow;
    }
    let own = policy_access(table, perspective, operation, rules);
    match operation {
        Operation::Update | Operation::Delete => {
            own.and(policy_access(table, perspective, Operation::Select, rules))
        }
        _ => own,
    }
}

pub fn matrix(realized: &Schema) -> Vec<MatrixRow> {
    let mut rules = OwnerRules::default();
    realized
        .tables
        .values()
        .map(|table| MatrixRow {
            table: table.name.clone(),
            rls_enabled: table.rls_enabled,
            documented: table.is_documented(),
            cells: Perspective::ALL
                .iter()
                .map(|&p| {
                    (
                        p,
                        Operation::ALL
                            .iter()
                            .map(|&o| (o, cell_with(table, p, o, &mut rules)))
                            .collect(),
                    )
                })
                .collect(),
        })
        .collect()
}

fn matrix_markdown(rows: &[MatrixRow]) -> String {
    let mut out = String::from(
        "# Row Level Security access matrix\n\nDerived from the generated policies. Each cell lists select, insert, update and delete: \
         allow, deny, or filtered by a condition. `service_role` bypasses RLS. UPDATE and DELETE also pass the SELECT policies, \
         as PostgreSQL requires for statements with a WHERE clause.\n\n",
    );
    out.push_str("| table | ");
    out.push_str(
        &Perspective::ALL
            .iter()
            .map(|p| p.title())
            .collect::<Vec<_>>()
            .join(" | "),
    );
    out.push_str(" |\n|---|---|---|---|---|\n");
    for row in rows {
        let name = if row.documented {
            row.table.clone()
        } else {
            format!("{} (stub)", row.table)
        };
        out.push_str(&format!("| {name} |"));
        for perspective in Perspective::ALL {
            let cells = &row.cells[&perspective];
            let text: Vec<String> = Operation::ALL
                .iter()
                .map(|o| {
                    format!(
                        "{}: {}",
                        format!("{o:?}").to_ascii_lowercase(),
                        cells[o].label().replace('|', "\\|")
                    )
                })
                .collect();
            out.push_str(&format!(" {} |", text.join("<br>")));
        }
        out.push('\n');
    }
    out
}

/// The idempotent policy script.
pub const POLICIES_PATH: &str = "rls/policies.sql";
/// The access matrix, for people.
pub const MATRIX_MARKDOWN: &str = "reports/rls-matrix.md";
/// The access matrix, for tools.
pub const MATRIX_JSON: &str = "reports/rls-matrix.json";

/// What the embedded `rls.sql.tera` reads of a table. A replacement
/// template gets the whole table; as template values, the tables of a large
/// schema take hundreds of megabytes.
#[derive(Serialize)]
struct PolicyTable<'a> {
    name: &'a str,
    rls_enabled: bool,
    policies: &'a [Policy],
}

/// The policies and the matrix, each written into the sink as it is made.
pub fn emit(context: &EmitContext<'_>, sink: &mut dyn OutputSink) -> Result<(), EmitError> {
    let realized = context.realized();
    let mut tera_context = tera::Context::new();
    if context.templates.is_embedded("rls.sql.tera") {
        let tables: Vec<PolicyTable<'_>> = realized
            .tables
            .values()
            .map(|t| PolicyTable {
                name: &t.name,
                rls_enabled: t.rls_enabled,
                policies: &t.policies,
            })
            .collect();
        tera_context.insert("tables", &tables);
    } else {
        tera_context.insert("tables", &realized.tables.values().collect::<Vec<_>>());
    }
    render_into(
        sink,
        context.templates,
        TemplateOutput {
            path: POLICIES_PATH,
            template: "rls.sql.tera",
            ending: Ending::AsRendered,
        },
        &tera_context,
    )?;
    drop(tera_context);
    let rows = matrix(realized);
    sink.file(OutputFile::new(MATRIX_MARKDOWN, matrix_markdown(&rows)))?;
    sink.stream(&[MATRIX_JSON], &mut |writers| {
        let mut out = std::io::BufWriter::new(&mut *writers[0]);
        serde_json::to_writer_pretty(&mut out, &rows)
            .and_then(|()| out.write_all(b"\n").map_err(serde_json::Error::io))
            .and_then(|()| out.flush().map_err(serde_json::Error::io))
            .map_err(|e| EmitError::Serialize {
                what: "the RLS matrix".to_owned(),
                message: e.to_string(),
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Documentation, PolicyOrigin, Source};

    fn policy(command: PolicyCommand, roles: &[&str], using: &str) -> Policy {
        Policy {
            name: "p".into(),
            command,
            roles: roles.iter().map(|r| r.to_string()).collect(),
            permissive: true,
            using: Some(using.into()),
            with_check: Some(using.into()),
            origin: PolicyOrigin::ProseRule,
            source: Source::new("t", 1),
        }
    }

    #[test]
    fn the_embedded_template_reads_only_what_it_is_given_and_a_replacement_gets_tables() {
        use crate::emit::{Emitter, Templates};
        let doc = "## Shop\n\n```sql\nCREATE TABLE stores (\n  id UUID PRIMARY KEY,\n  owner_id UUID NOT NULL\n);\nALTER TABLE stores ENABLE ROW LEVEL SECURITY;\nCREATE POLICY own ON stores FOR ALL USING (owner_id = auth.uid());\n```\n";
        let project = crate::project::Project::from_text("doc.md", doc, &Default::default());
        let embedded = Templates::load(None).unwrap();
        let context = EmitContext::new(&project, &embedded);
        let files = Emitter::Rls.render(&context).unwrap();
        // The same template given the whole tables writes the same file.
        let mut whole = tera::Context::new();
        whole.insert(
            "tables",
            &context.realized().tables.values().collect::<Vec<_>>(),
        );
        assert_eq!(
            files[0].contents,
            embedded.render("rls.sql.tera", &whole).unwrap()
        );
        assert!(files[0].contents.contains("CREATE POLICY"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("rls.sql.tera"),
            "{% for t in tables %}{{ t.name }}: {{ t.columns | length }}\n{% endfor %}",
        )
        .unwrap();
        let replaced = Templates::load(Some(dir.path())).unwrap();
        let context = EmitContext::new(&project, &replaced);
        assert_eq!(
            Emitter::Rls.render(&context).unwrap()[0].contents,
            "stores: 2\n"
        );
    }

    #[test]
    fn owner_rules_split_owner_from_other_users() {
        let mut t = Table::new("properties", Documentation::Full, Source::new("t", 1));
        t.rls_enabled = true;
        t.policies = vec![
            policy(
                PolicyCommand::All,
                &["authenticated"],
                "agent_id = auth.uid()",
            ),
            policy(
                PolicyCommand::Select,
                &["anon", "authenticated"],
                "is_active = true",
            ),
        ];
        assert_eq!(
            cell(&t, Perspective::Owner, Operation::Delete),
            Access::Allow
        );
        assert_eq!(
            cell(&t, Perspective::Other, Operation::Select),
            Access::Filtered("is_active = true".into())
        );
        assert_eq!(
            cell(&t, Perspective::Other, Operation::Update),
            Access::Deny
        );
        assert_eq!(cell(&t, Perspective::Anon, Operation::Insert), Access::Deny);
        assert_eq!(
            cell(&t, Perspective::ServiceRole, Operation::Delete),
            Access::Allow
        );
        assert_eq!(
            owner_column("(auth.uid() = user_id)").as_deref(),
            Some("user_id")
        );
    }
}
