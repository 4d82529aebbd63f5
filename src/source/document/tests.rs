//! Unit tests of the walker's text readers and of whole small documents.

use super::*;

#[test]
fn headings_and_notes() {
    assert_eq!(
        table_section_heading("1. PROPERTIES (47 columns)"),
        Some(("PROPERTIES", 47))
    );
    assert_eq!(
        table_section_heading("4. VENDORS (24 columns) ✅ NEW"),
        Some(("VENDORS", 24))
    );
    assert_eq!(
        table_section_heading("1. NO AUTOMATED EXTERNAL BACKUP"),
        None
    );
    assert_eq!(
        fk_target("FK to profiles (owner)").as_deref(),
        Some("profiles")
    );
    assert_eq!(
        fk_target("FK to auth.users (Supabase auth)").as_deref(),
        Some("auth.users")
    );
    assert_eq!(fk_target("Foreign reference"), None);
    assert_eq!(
        inline_enum("active/pending/sold"),
        ["active", "pending", "sold"]
    );
    assert_eq!(inline_enum("Source (chat/doc/web)"), ["chat", "doc", "web"]);
    assert!(inline_enum("Unit/Apt").is_empty());
    assert_eq!(
        module_of("CR REALTOR PLATFORM - Complete Schema Documentation").as_deref(),
        Some("realtor")
    );
    assert_eq!(
        module_of("Javari AI - Technical Architecture").as_deref(),
        Some("javari")
    );
    assert_eq!(slug("STOCK/CRYPTO PLATFORM"), "stock-crypto-platform");
    assert_eq!(
        mirror_target("[... property fields mirror properties table ...]").as_deref(),
        Some("properties")
    );
    assert_eq!(
        backticked("`activity_log` vs `activity_logs`"),
        ["activity_log", "activity_logs"]
    );
    assert_eq!(
        group_count("Complete Schema (33 Tables)"),
        Some(("Complete Schema".to_owned(), 33, true))
    );
    assert_eq!(
        group_count("Core System Tables (5)"),
        Some(("Core System Tables".to_owned(), 5, false))
    );
    assert_eq!(
        renamed_from_marker("Free text (renamed from `notes`)"),
        Some(("notes".to_owned(), "Free text".to_owned()))
    );
    assert_eq!(
        renamed_from_marker("(Renamed from legacy_id) FK to profiles"),
        Some(("legacy_id".to_owned(), "FK to profiles".to_owned()))
    );
    assert_eq!(renamed_from_marker("Free text (notes)"), None);
}
