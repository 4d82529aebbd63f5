//! What of a live database is compared with the documents. Platforms
//! install extensions of their own (Supabase has a dozen), and an extension
//! the documents do not mention is neither drift nor something to drop; the
//! tables the configuration ignores were left out when the catalog was read.
//! `gen check` and `gen diff` both compare the live schema this returns.

use crate::model::Schema;
use crate::model::stages::Realized;

/// The live schema as the documents can be compared with it.
pub fn comparable_live(mut live: Schema, documented: &Realized) -> Realized {
    live.extensions
        .retain(|name, _| documented.extensions.contains_key(name));
    Realized::physical(live)
}
