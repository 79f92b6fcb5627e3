//! The fields of an upload form that choose where its files land, read part by part.

use super::{OnConflict, UploadTarget};
use crate::library::{Error, Result};

/// The fields that choose an upload's target, read from a multipart body part by part.
///
/// Every target field must come before the first file part and at most once (a repeated
/// field, or one after a file, refuses the whole request), so that the target checked
/// before the first file is the one every file of the request lands in.
#[derive(Debug)]
pub struct TargetFields {
    form: FieldNames,
    target: UploadTarget,
    seen: Vec<&'static str>,
    files: usize,
}

/// Which field names a form uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldNames {
    /// The admin's upload form: `folder` (empty = unsorted uploads) and `on_conflict`;
    /// other fields ignored.
    Admin,
    /// The JSON API: `folder_id`, `is_public`, `owner_id`, `description`, `on_conflict`;
    /// others refused.
    Api,
    /// A share link's drop: no field at all (the link decides everything).
    Drop,
}

impl TargetFields {
    /// Starts from `initial` (the API's query parameters); a field given there may not be
    /// given again in the body.
    pub fn new(form: FieldNames, initial: UploadTarget) -> Self {
        let mut seen = Vec::new();
        if initial.folder_id.is_some() {
            seen.push("folder");
        }
        if initial.is_public.is_some() {
            seen.push("is_public");
        }
        if initial.owner_id.is_some() {
            seen.push("owner_id");
        }
        if initial.on_conflict != OnConflict::default() {
            seen.push("on_conflict");
        }
        TargetFields {
            form,
            target: initial,
            seen,
            files: 0,
        }
    }

    /// One non-file part.
    pub fn field(&mut self, name: &str, value: &str) -> Result<()> {
        let key: &'static str = match (self.form, name) {
            (FieldNames::Admin, "folder") | (FieldNames::Api, "folder_id") => "folder",
            (FieldNames::Api, "is_public") => "is_public",
            (FieldNames::Api, "owner_id") => "owner_id",
            (FieldNames::Api, "description") => "description",
            (FieldNames::Drop, other) => {
                return Err(Error::Invalid(format!(
                    "unknown field {other:?}; nothing was uploaded"
                )));
            }
            (_, "on_conflict") => "on_conflict",
            (FieldNames::Admin, _) => return Ok(()),
            (FieldNames::Api, other) => {
                return Err(Error::Invalid(format!("unknown field {other:?}")));
            }
        };
        if self.files > 0 {
            return Err(Error::Invalid(format!(
                "the {name} field must come before the file parts; nothing was uploaded"
            )));
        }
        if self.seen.contains(&key) {
            return Err(Error::Invalid(format!(
                "the {name} field is given more than once; nothing was uploaded"
            )));
        }
        self.seen.push(key);
        match key {
            "folder" => self.target.folder_id = parse_id(name, value)?,
            "is_public" => self.target.is_public = Some(parse_bool(name, value)?),
            "owner_id" => self.target.owner_id = parse_id(name, value)?,
            "on_conflict" => {
                self.target.on_conflict = OnConflict::parse(value).ok_or_else(|| {
                    Error::Invalid(format!(
                        "invalid value for on_conflict: {value:?} (rename, version, fail or skip)"
                    ))
                })?;
            }
            _ => {
                self.target.description = crate::domain::text::DESCRIPTION
                    .parse(value)
                    .map_err(|e| Error::Invalid(e.to_string()))?;
            }
        }
        Ok(())
    }

    /// A file part: from now on the target is fixed. [`authorize`] it before reading the
    /// first file's bytes.
    pub fn file(&mut self) -> &UploadTarget {
        self.files += 1;
        &self.target
    }

    /// The target so far (fixed once a file part was seen).
    pub fn target(&self) -> &UploadTarget {
        &self.target
    }
}

fn parse_id(name: &str, value: &str) -> Result<Option<i64>> {
    match value.trim() {
        "" => Ok(None),
        v => v
            .parse()
            .map(Some)
            .map_err(|_| Error::Invalid(format!("invalid value for {name}: {value:?}"))),
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool> {
    match value.trim() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" | "" => Ok(false),
        _ => Err(Error::Invalid(format!(
            "invalid value for {name}: {value:?}"
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug)]
    enum Part {
        Field(&'static str, &'static str),
        File,
    }

    fn parts(names: &'static [&'static str]) -> impl Strategy<Value = Vec<Part>> {
        let values = prop::sample::select(vec!["4", "1", "", " 4 ", "x", "-1", "true", "no"]);
        let field = (prop::sample::select(names), values).prop_map(|(n, v)| Part::Field(n, v));
        prop::collection::vec(prop_oneof![field, Just(Part::File)], 0..10)
    }

    /// What a handler does with the parts: the target checked before the first file's bytes,
    /// the target each file is staged with, and the target its row is committed with; or
    /// the refusal of the whole request.
    fn run(
        form: FieldNames,
        initial: UploadTarget,
        seq: &[Part],
    ) -> Option<Vec<[UploadTarget; 3]>> {
        let mut fields = TargetFields::new(form, initial);
        let mut authorised = None;
        let mut staged = Vec::new();
        for part in seq {
            match part {
                Part::Field(n, v) => fields.field(n, v).ok()?,
                Part::File => {
                    let t = fields.file().clone();
                    authorised.get_or_insert_with(|| t.clone());
                    staged.push(t);
                }
            }
        }
        let committed = fields.target().clone();
        Some(
            staged
                .into_iter()
                .map(|s| [authorised.clone().unwrap(), s, committed.clone()])
                .collect(),
        )
    }

    fn same(a: &UploadTarget, b: &UploadTarget) -> bool {
        (a.folder_id, a.is_public, a.owner_id, &a.description)
            == (b.folder_id, b.is_public, b.owner_id, &b.description)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Whatever the order, number or repetition of parts, every file lands where the
        /// check before the first file looked.
        #[test]
        fn no_part_order_moves_a_file_away_from_the_checked_target(
            admin in parts(&["folder", "folder", "csrf_token", "other"]),
            api in parts(&["folder_id", "is_public", "owner_id", "description", "unknown"]),
            query_folder in prop::option::of(prop::sample::select(vec![1_i64, 4])),
        ) {
            for (form, seq, initial) in [
                (FieldNames::Admin, &admin, UploadTarget::default()),
                (FieldNames::Api, &api, UploadTarget { folder_id: query_folder, ..UploadTarget::default() }),
            ] {
                if let Some(files) = run(form, initial, seq) {
                    for [checked, staged, committed] in &files {
                        prop_assert!(same(checked, staged) && same(checked, committed), "{seq:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_reported_sequence_and_repetitions_are_refused() {
        let mut f = TargetFields::new(FieldNames::Admin, UploadTarget::default());
        f.field("csrf_token", "t").unwrap();
        f.field("folder", "4").unwrap();
        assert_eq!(f.file().folder_id, Some(4));
        assert!(matches!(f.field("folder", "1"), Err(Error::Invalid(_))));
        let mut f = TargetFields::new(FieldNames::Admin, UploadTarget::default());
        f.field("folder", "4").unwrap();
        assert!(f.field("folder", "4").is_err());
        assert!(f.field("folder", "").is_err());
        let mut f = TargetFields::new(FieldNames::Admin, UploadTarget::default());
        assert!(f.field("folder", "x").is_err());
        let mut f = TargetFields::new(
            FieldNames::Api,
            UploadTarget {
                folder_id: Some(4),
                ..UploadTarget::default()
            },
        );
        assert!(f.field("folder_id", "1").is_err());
        f.field("is_public", "true").unwrap();
        assert!(f.field("is_public", "false").is_err());
        assert!(f.field("bogus", "1").is_err());
    }
}
