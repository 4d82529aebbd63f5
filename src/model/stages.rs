//! The two stages of the model as types of their own. A `Documented`
//! schema is what the documents say, merged and lowered; a `Realized`
//! schema is what migrations create from it (stub tables, implied
//! defaults, PostgreSQL's constraint names, policies from prose). Both are
//! a [`Schema`] underneath, and both read as one through `Deref`, but a
//! function that needs one stage takes that type, so that handing it the
//! other does not compile: the bug this replaces was a realised schema
//! recomputed, or the documented one diffed, in seven places.

use super::Schema;
use super::physical::{RealizeOptions, realize};
use crate::diag::Diagnostic;
use serde::Serialize;
use std::ops::Deref;

/// The schema as the documents describe it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Documented(Schema);

/// The physical schema: what the migrations create.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Realized(Schema);

impl Documented {
    /// Takes a lowered schema as the documented stage.
    pub fn new(schema: Schema) -> Documented {
        Documented(schema)
    }

    /// Realises the documented schema, with realisation's diagnostics.
    pub fn realize(&self, options: &RealizeOptions) -> (Realized, Vec<Diagnostic>) {
        let (schema, diagnostics) = realize(&self.0, options);
        (Realized(schema), diagnostics)
    }

    pub fn into_inner(self) -> Schema {
        self.0
    }
}

impl Realized {
    /// A schema that is physical already: a migration snapshot (written
    /// from a realised schema) or a live database read by introspection.
    pub fn physical(schema: Schema) -> Realized {
        Realized(schema)
    }

    pub fn into_inner(self) -> Schema {
        self.0
    }
}

impl Deref for Documented {
    type Target = Schema;
    fn deref(&self) -> &Schema {
        &self.0
    }
}

impl Deref for Realized {
    type Target = Schema;
    fn deref(&self) -> &Schema {
        &self.0
    }
}
