//! The contact record as stored. Emails, phones and addresses live in fixed slots (Infusionsoft has
//! exactly `Email`, `EmailAddress2`, `EmailAddress3`, `Phone1`…`Phone5` and three addresses), so a slot
//! holds at most one entry and the lists are kept sorted by slot.

use serde::{Deserialize, Serialize};

wire_enum!(
    /// Which of the three email slots; `EMAIL1` is Infusionsoft's `Email`, the primary address.
    EmailField, "field" { Email1 = "EMAIL1", Email2 = "EMAIL2", Email3 = "EMAIL3" }
);
wire_enum!(PhoneField, "field" {
    Phone1 = "PHONE1", Phone2 = "PHONE2", Phone3 = "PHONE3", Phone4 = "PHONE4", Phone5 = "PHONE5",
});
wire_enum!(AddressField, "field" { Billing = "BILLING", Shipping = "SHIPPING", Other = "OTHER" });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EmailAddress {
    pub field: EmailField,
    /// As entered (trimmed); comparisons are case-insensitive.
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PhoneNumber {
    pub field: PhoneField,
    pub number: String,
    #[serde(default)]
    pub extension: Option<String>,
    /// Free text such as `Mobile` or `Work`; `type` on the wire, a keyword in Rust.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub field: AddressField,
    #[serde(default)]
    pub line1: Option<String>,
    #[serde(default)]
    pub line2: Option<String>,
    #[serde(default)]
    pub locality: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
}

impl Address {
    pub fn empty(field: AddressField) -> Self {
        Self {
            field,
            line1: None,
            line2: None,
            locality: None,
            region: None,
            postal_code: None,
            country_code: None,
        }
    }

    /// The six parts in wire order: line1, line2, locality, region, postal_code, country_code.
    pub fn parts(&self) -> [&Option<String>; 6] {
        let a = self;
        [
            &a.line1,
            &a.line2,
            &a.locality,
            &a.region,
            &a.postal_code,
            &a.country_code,
        ]
    }

    pub fn parts_mut(&mut self) -> [&mut Option<String>; 6] {
        let a = self;
        [
            &mut a.line1,
            &mut a.line2,
            &mut a.locality,
            &mut a.region,
            &mut a.postal_code,
            &mut a.country_code,
        ]
    }

    /// An address with no part left is no address: the slot is dropped rather than stored empty.
    pub fn is_empty(&self) -> bool {
        self.parts().iter().all(|p| p.is_none())
    }
}

/// A contact of one account (the store scopes by account, so the record does not carry it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: i64,
    pub given_name: Option<String>,
    pub middle_name: Option<String>,
    pub family_name: Option<String>,
    pub company: Option<String>,
    pub job_title: Option<String>,
    #[serde(default)]
    pub emails: Vec<EmailAddress>,
    #[serde(default)]
    pub phones: Vec<PhoneNumber>,
    #[serde(default)]
    pub addresses: Vec<Address>,
    /// Sorted and without duplicates.
    #[serde(default)]
    pub tag_ids: Vec<i64>,
    /// Lead source / `source_type` text.
    pub source: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Bumped on every change; the ETag of the REST representation.
    pub version: i64,
}

impl Contact {
    pub fn email(&self, field: EmailField) -> Option<&str> {
        self.emails
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.email.as_str())
    }

    pub fn phone(&self, field: PhoneField) -> Option<&PhoneNumber> {
        self.phones.iter().find(|p| p.field == field)
    }

    pub fn address(&self, field: AddressField) -> Option<&Address> {
        self.addresses.iter().find(|a| a.field == field)
    }

    /// `EMAIL1`, or the first address filled when that slot is empty.
    pub fn primary_email(&self) -> Option<&str> {
        self.email(EmailField::Email1)
            .or_else(|| self.emails.first().map(|e| e.email.as_str()))
    }

    /// Whether any slot holds `email`, compared case-insensitively (as `findByEmail` does).
    pub fn has_email(&self, email: &str) -> bool {
        let wanted = crate::email::normalize(email);
        self.emails
            .iter()
            .any(|e| crate::email::normalize(&e.email) == wanted)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A stored contact for other modules' tests.
    pub(crate) fn sample() -> Contact {
        Contact {
            id: 7,
            given_name: Some("Ann".into()),
            middle_name: None,
            family_name: Some("Lee".into()),
            company: Some("Acme".into()),
            job_title: None,
            emails: vec![
                EmailAddress {
                    field: EmailField::Email1,
                    email: "Ann@Example.com".into(),
                },
                EmailAddress {
                    field: EmailField::Email3,
                    email: "ann@work.example".into(),
                },
            ],
            phones: vec![PhoneNumber {
                field: PhoneField::Phone2,
                number: "+1 555-0100".into(),
                extension: Some("12".into()),
                kind: Some("Work".into()),
            }],
            addresses: vec![Address {
                locality: Some("Boston".into()),
                ..Address::empty(AddressField::Shipping)
            }],
            tag_ids: vec![3, 9],
            source: Some("API".into()),
            created_at: 1_700_000_000,
            updated_at: 1_700_000_100,
            version: 2,
        }
    }

    #[test]
    fn slots_and_lookups() {
        let c = sample();
        assert_eq!(c.email(EmailField::Email3), Some("ann@work.example"));
        assert_eq!(c.email(EmailField::Email2), None);
        assert_eq!(
            c.phone(PhoneField::Phone2).map(|p| p.number.as_str()),
            Some("+1 555-0100")
        );
        assert!(c.phone(PhoneField::Phone1).is_none());
        assert!(c.address(AddressField::Shipping).is_some());
        assert!(c.address(AddressField::Billing).is_none());
        assert!(c.has_email(" ANN@example.COM "));
        assert!(!c.has_email("bob@example.com"));
        assert_eq!(c.primary_email(), Some("Ann@Example.com"));
        let mut no_first = sample();
        no_first.emails.remove(0);
        assert_eq!(no_first.primary_email(), Some("ann@work.example"));
    }

    #[test]
    fn address_emptiness() {
        let mut a = Address::empty(AddressField::Other);
        assert!(a.is_empty());
        *a.parts_mut()[4] = Some("0150".into());
        assert_eq!(a.postal_code.as_deref(), Some("0150"));
        assert!(!a.is_empty());
        assert_eq!(sample().addresses[0].parts()[2].as_deref(), Some("Boston"));
    }

    #[test]
    fn wire_names() {
        let json = serde_json::to_value(&sample().phones[0]).unwrap();
        assert_eq!(json["field"], "PHONE2");
        assert_eq!(json["type"], "Work");
        assert_eq!(EmailField::parse("EMAIL2").unwrap(), EmailField::Email2);
        assert!(AddressField::parse("billing").is_err());
        assert!(
            EmailField::Email1 < EmailField::Email3,
            "slots sort in wire order"
        );
        let back: Contact = serde_json::from_value(serde_json::to_value(sample()).unwrap()).unwrap();
        assert_eq!(back, sample());
        let err =
            serde_json::from_str::<EmailAddress>(r#"{"field":"EMAIL1","email":"a@b.co","x":1}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `x`"));
    }
}
