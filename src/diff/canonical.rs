//! One spelling for things that mean the same. The documents write
//! `status IN ('a', 'b')`, `DEFAULT 'a'`, `NOW()` and `vector(1536)`;
//! PostgreSQL deparses the same objects as
//! `status = ANY (ARRAY['a'::text, 'b'::text])`, `'a'::text`, `now()` and
//! `extensions.vector(1536)`. Before `gen check` diffs the documented schema
//! against a live one (`DiffOptions::live`), both sides are compared in the
//! forms this module gives, so that only real differences remain. Types need nothing here: `PgType` is already one
//! spelling per type (decimal = numeric, int4 = integer, varchar = character
//! varying, schema-qualified extension types).
//!
//! Expressions are parsed with sqlparser and rewritten bottom-up:
//! parentheses are dropped and re-added only where an operand is itself an
//! operation (so precedence is kept), casts of literals and casts to text are
//! dropped, `= ANY (ARRAY[...])` becomes `IN (...)`, `BETWEEN` becomes two
//! comparisons, `CURRENT_TIMESTAMP` becomes `now()`, and the schemas
//! PostgreSQL adds (`public.`, `extensions.`, `pg_catalog.`) are removed.
//! Dropping text casts means a change that only adds or removes `::text` is
//! not reported; every other change of meaning is.

use crate::model::{self, PgType};
use sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArguments, Ident, ObjectName, ObjectNamePart,
    UnaryOperator, Value, visit_expressions_mut, visit_relations_mut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// Schemas PostgreSQL (or our own emitter) writes in front of names that
/// resolve the same without them.
const IMPLIED_SCHEMAS: &[&str] = &["public", "extensions", "pg_catalog"];

/// A type in one spelling: unknown types fold to lower case without an
/// implied schema (`TSVECTOR` is `pg_catalog.tsvector`).
pub fn canonical_type(ty: &PgType) -> PgType {
    match ty {
        PgType::Unknown(raw) => PgType::Unknown(unqualified(&raw.to_lowercase()).to_owned()),
        PgType::Array(inner) => PgType::Array(Box::new(canonical_type(inner))),
        other => other.clone(),
    }
}

/// What identifies a function to PostgreSQL: its name and argument types
/// without modifiers (`vector(1536)` is `vector` in a function's identity).
pub fn function_identity(function: &model::Function) -> String {
    let arguments: Vec<String> = function
        .arguments
        .iter()
        .map(|a| canonical_type(&without_modifiers(a)).to_string())
        .collect();
    format!("{}({})", function.name.to_lowercase(), arguments.join(", "))
}

/// An operator class without the schema it was found in.
pub fn operator_class(class: Option<&str>) -> Option<String> {
    class.map(|c| unqualified(&c.to_lowercase()).to_owned())
}

fn unqualified(name: &str) -> &str {
    match name.split_once('.') {
        Some((schema, rest)) if IMPLIED_SCHEMAS.contains(&schema) => rest,
        _ => name,
    }
}

fn without_modifiers(ty: &PgType) -> PgType {
    match ty {
        PgType::Vector(_) => PgType::Vector(None),
        PgType::Numeric(_) => PgType::Numeric(None),
        PgType::Varchar(_) => PgType::Varchar(None),
        PgType::Array(inner) => PgType::Array(Box::new(without_modifiers(inner))),
        other => other.clone(),
    }
}

/// `canonical_expression`, remembered: a diff compares the same few
/// spellings (`now()`, `gen_random_uuid()`, `auth.uid() = user_id`)
/// thousands of times, and parsing dominates a drift check otherwise.
pub fn canonical_expression_cached(sql: &str) -> String {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static CACHE: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|cache| {
        if let Some(found) = cache.borrow().get(sql) {
            return found.clone();
        }
        let canonical = canonical_expression(sql);
        let mut cache = cache.borrow_mut();
        // A bound, so a long-lived process cannot grow it without end.
        if cache.len() > 100_000 {
            cache.clear();
        }
        cache.insert(sql.to_owned(), canonical.clone());
        canonical
    })
}

/// One spelling for an SQL expression. Text that does not parse is compared
/// with its whitespace collapsed.
pub fn canonical_expression(sql: &str) -> String {
    let parsed = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_expr());
    let Ok(mut expr) = parsed else {
        return sql.split_whitespace().collect::<Vec<_>>().join(" ");
    };
    let _ = visit_relations_mut(&mut expr, |name| {
        strip_implied_schema(name);
        ControlFlow::<()>::Continue(())
    });
    let _ = visit_expressions_mut(&mut expr, |e| {
        rewrite(e);
        ControlFlow::<()>::Continue(())
    });
    expr.to_string()
}

fn strip_implied_schema(name: &mut ObjectName) {
    for part in &mut name.0 {
        if let ObjectNamePart::Identifier(ident) = part {
            canonical_ident(ident);
        }
    }
    if name.0.len() > 1
        && let Some(ObjectNamePart::Identifier(first)) = name.0.first()
        && IMPLIED_SCHEMAS.contains(&first.value.as_str())
    {
        name.0.remove(0);
    }
}

/// Unquoted identifiers fold to lower case; quotes that change nothing go.
fn canonical_ident(ident: &mut Ident) {
    match ident.quote_style {
        None => ident.value = ident.value.to_lowercase(),
        Some('"') if is_plain_identifier(&ident.value) => ident.quote_style = None,
        _ => {}
    }
}

fn is_plain_identifier(value: &str) -> bool {
    let mut chars = value.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn is_literal(expr: &Expr) -> bool {
    match expr {
        Expr::Value(_) => true,
        Expr::Array(array) => array.elem.iter().all(is_literal),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => is_literal(expr),
        _ => false,
    }
}

fn is_text_type(data_type: &str) -> bool {
    let base = data_type.trim_end_matches("[]");
    matches!(
        base,
        "text" | "varchar" | "character varying" | "char varying" | "name" | "bpchar"
    ) || base.starts_with("varchar(")
        || base.starts_with("character varying(")
}

/// Whether `expr` needs parentheses as the operand of an operator.
fn is_operation(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::BinaryOp { .. }
            | Expr::UnaryOp { .. }
            | Expr::InList { .. }
            | Expr::AnyOp { .. }
            | Expr::AllOp { .. }
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::Between { .. }
    )
}

fn nested(expr: Expr) -> Box<Expr> {
    if is_operation(&expr) {
        Box::new(Expr::Nested(Box::new(expr)))
    } else {
        Box::new(expr)
    }
}

/// Rewrites one node whose children are already canonical.
fn rewrite(expr: &mut Expr) {
    let taken = std::mem::replace(expr, Expr::Value(Value::Null.into()));
    *expr = match taken {
        Expr::Nested(inner) => *inner,
        Expr::Identifier(mut ident) => {
            canonical_ident(&mut ident);
            Expr::Identifier(ident)
        }
        Expr::CompoundIdentifier(mut parts) => {
            parts.iter_mut().for_each(canonical_ident);
            if parts.len() > 2 && IMPLIED_SCHEMAS.contains(&parts[0].value.as_str()) {
                parts.remove(0);
            }
            Expr::CompoundIdentifier(parts)
        }
        Expr::Cast {
            kind,
            expr: inner,
            data_type,
            format,
        } => {
            let type_name = data_type.to_string().to_lowercase();
            if is_literal(&inner) || is_text_type(&type_name) {
                if type_name == "interval"
                    && let Expr::Value(value) = &*inner
                    && let Value::SingleQuotedString(text) = &value.value
                {
                    Expr::Value(Value::SingleQuotedString(interval_text(text)).into())
                } else {
                    *inner
                }
            } else {
                Expr::Cast {
                    kind,
                    expr: inner,
                    data_type,
                    format,
                }
            }
        }
        Expr::Interval(interval) => match *interval.value {
            Expr::Value(value) => match value.value {
                Value::SingleQuotedString(text) => {
                    Expr::Value(Value::SingleQuotedString(interval_text(&text)).into())
                }
                other => Expr::Value(other.into()),
            },
            other => other,
        },
        Expr::TypedString(typed) => Expr::Value(typed.value),
        Expr::AnyOp {
            left,
            compare_op: BinaryOperator::Eq,
            right,
            is_some,
        } => match *right {
            Expr::Array(array) => Expr::InList {
                expr: nested(*left),
                list: array.elem,
                negated: false,
            },
            right => Expr::AnyOp {
                left,
                compare_op: BinaryOperator::Eq,
                right: Box::new(right),
                is_some,
            },
        },
        Expr::AllOp {
            left,
            compare_op: BinaryOperator::NotEq,
            right,
        } => match *right {
            Expr::Array(array) => Expr::InList {
                expr: nested(*left),
                list: array.elem,
                negated: true,
            },
            right => Expr::AllOp {
                left,
                compare_op: BinaryOperator::NotEq,
                right: Box::new(right),
            },
        },
        Expr::Between {
            expr: subject,
            negated,
            low,
            high,
        } => {
            let (low_op, high_op, join) = if negated {
                (BinaryOperator::Lt, BinaryOperator::Gt, BinaryOperator::Or)
            } else {
                (
                    BinaryOperator::GtEq,
                    BinaryOperator::LtEq,
                    BinaryOperator::And,
                )
            };
            let low = Expr::BinaryOp {
                left: nested((*subject).clone()),
                op: low_op,
                right: nested(*low),
            };
            let high = Expr::BinaryOp {
                left: nested(*subject),
                op: high_op,
                right: nested(*high),
            };
            Expr::BinaryOp {
                left: nested(low),
                op: join,
                right: nested(high),
            }
        }
        Expr::BinaryOp { left, op, right } => Expr::BinaryOp {
            left: nested(*left),
            op,
            right: nested(*right),
        },
        Expr::UnaryOp { op, expr: inner } => Expr::UnaryOp {
            op,
            expr: nested(*inner),
        },
        Expr::InList {
            expr: subject,
            list,
            negated,
        } => Expr::InList {
            expr: nested(*subject),
            list,
            negated,
        },
        Expr::Function(function) => Expr::Function(canonical_function(function)),
        other => other,
    };
}

fn canonical_function(mut function: Function) -> Function {
    strip_implied_schema(&mut function.name);
    let name = function.name.to_string();
    if name == "current_timestamp" && matches!(function.args, FunctionArguments::None) {
        // `CURRENT_TIMESTAMP` is `now()`.
        return Function {
            name: ObjectName::from(vec![Ident::new("now")]),
            args: FunctionArguments::List(sqlparser::ast::FunctionArgumentList {
                duplicate_treatment: None,
                args: Vec::new(),
                clauses: Vec::new(),
            }),
            ..function
        };
    }
    function
}

/// PostgreSQL's output spelling of a simple interval: `1 month` is `1 mon`,
/// `2 months` is `2 mons`; other units print as written.
fn interval_text(text: &str) -> String {
    text.split_whitespace()
        .map(|word| match word.to_lowercase().as_str() {
            "month" | "mon" => "mon".to_owned(),
            "months" | "mons" => "mons".to_owned(),
            "year" | "years" | "day" | "days" => word.to_lowercase(),
            _ => word.to_lowercase(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs that must come out the same: documented spelling, PostgreSQL's.
    const SAME: &[(&str, &str)] = &[
        (
            "plan IN ('free', 'pro', 'enterprise')",
            "(plan = ANY (ARRAY['free'::text, 'pro'::text, 'enterprise'::text]))",
        ),
        (
            "status IN ('a', 'b')",
            "((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
        ),
        (
            "priority BETWEEN 1 AND 10",
            "((priority >= 1) AND (priority <= 10))",
        ),
        (
            "temperature >= 0 AND temperature <= 2",
            "((temperature >= (0)::numeric) AND (temperature <= (2)::numeric))",
        ),
        ("NOW()", "now()"),
        ("CURRENT_TIMESTAMP", "now()"),
        ("'pending'", "'pending'::text"),
        ("'{}'", "'{}'::jsonb"),
        (
            "extensions.uuid_generate_v4()",
            "extensions.uuid_generate_v4()",
        ),
        ("uuid_generate_v4()", "extensions.uuid_generate_v4()"),
        (
            "(NOW() + INTERVAL '1 month')",
            "(now() + '1 mon'::interval)",
        ),
        ("auth.uid() = user_id", "(auth.uid() = user_id)"),
        (
            "(project_id IS NOT NULL AND subproject_id IS NULL) OR (project_id IS NULL AND subproject_id IS NOT NULL)",
            "(((project_id IS NOT NULL) AND (subproject_id IS NULL)) OR ((project_id IS NULL) AND (subproject_id IS NOT NULL)))",
        ),
        (
            "EXISTS (SELECT 1 FROM profiles WHERE profiles.id = auth.uid() AND profiles.role = 'admin')",
            "(EXISTS ( SELECT 1\n   FROM public.profiles\n  WHERE ((profiles.id = auth.uid()) AND (profiles.role = 'admin'::text))))",
        ),
        (
            "to_tsvector('english', title)",
            "to_tsvector('english'::regconfig, title)",
        ),
        ("\"user_id\"", "user_id"),
    ];

    /// Pairs that differ in meaning and must stay different.
    const DIFFERENT: &[(&str, &str)] = &[
        ("(a OR b) AND c", "a OR (b AND c)"),
        ("status IN ('a', 'b')", "status IN ('a', 'c')"),
        ("auth.uid() = user_id", "auth.uid() = owner_id"),
        ("'pending'", "'active'"),
        ("now()", "now() + '1 mon'::interval"),
        ("\"User\"", "user"),
    ];

    #[test]
    fn spellings_of_one_meaning_agree() {
        for (documented, deparsed) in SAME {
            assert_eq!(
                canonical_expression(documented),
                canonical_expression(deparsed),
                "{documented}  vs  {deparsed}"
            );
        }
    }

    #[test]
    fn different_meanings_stay_apart() {
        for (a, b) in DIFFERENT {
            assert_ne!(
                canonical_expression(a),
                canonical_expression(b),
                "{a} vs {b}"
            );
        }
    }
}
