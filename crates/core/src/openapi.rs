//! OpenAPI schemas of the core's types (feature `openapi`): most are derived; the string enums made by
//! macros are described here, since the derive cannot read their spellings.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// A string that is one of `values`.
pub fn string_enum(values: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .into()
}
