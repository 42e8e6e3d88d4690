//! Typed access to a call's parameters, with faults that name the method, the position and the types.

use keygate_core::contact::FieldValue;
use keygate_xmlrpc::Value;

use super::fault::Fault;

/// The parameters after the key (the key is parameter 1, so the first of these is parameter 2).
pub struct Params<'a> {
    pub method: &'a str,
    pub values: &'a [Value],
}

impl<'a> Params<'a> {
    /// Refuses a call with fewer than `min` or more than `max` parameters after the key.
    pub fn arity(&self, min: usize, max: usize, shape: &str) -> Result<(), Fault> {
        let n = self.values.len();
        if n < min || n > max {
            return Err(Fault::invalid_parameter(format!(
                "{} takes {shape} after the key; got {n} parameter{}",
                self.method,
                if n == 1 { "" } else { "s" }
            )));
        }
        Ok(())
    }

    fn at(&self, i: usize, name: &str) -> Result<&'a Value, Fault> {
        self.values.get(i).ok_or_else(|| {
            Fault::invalid_parameter(format!(
                "{}: parameter {} ({name}) is missing",
                self.method,
                i + 2
            ))
        })
    }

    fn wrong(&self, i: usize, name: &str, v: &Value, expected: &str) -> Fault {
        Fault::invalid_parameter(format!(
            "{}: parameter {} ({name}) must be {expected}, got {}",
            self.method,
            i + 2,
            v.type_phrase()
        ))
    }

    /// An int; a string of digits is accepted too, as lenient clients send ids that way.
    pub fn int(&self, i: usize, name: &str) -> Result<i64, Fault> {
        let v = self.at(i, name)?;
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .ok_or_else(|| self.wrong(i, name, v, "an int"))
    }

    pub fn string(&self, i: usize, name: &str) -> Result<&'a str, Fault> {
        let v = self.at(i, name)?;
        v.as_str().ok_or_else(|| self.wrong(i, name, v, "a string"))
    }

    pub fn optional_string(&self, i: usize, name: &str) -> Result<Option<&'a str>, Fault> {
        match self.values.get(i) {
            None | Some(Value::Nil) => Ok(None),
            Some(_) => self.string(i, name).map(Some),
        }
    }

    pub fn optional_bool(&self, i: usize, name: &str) -> Result<Option<bool>, Fault> {
        match self.values.get(i) {
            None | Some(Value::Nil) => Ok(None),
            Some(v) => v
                .as_bool()
                .or_else(|| v.as_i64().map(|n| n != 0))
                .map(Some)
                .ok_or_else(|| self.wrong(i, name, v, "a boolean")),
        }
    }

    pub fn fields(&self, i: usize, name: &str) -> Result<Vec<(String, FieldValue)>, Fault> {
        let v = self.at(i, name)?;
        let members = v.as_struct().ok_or_else(|| self.wrong(i, name, v, "a struct"))?;
        members
            .iter()
            .map(|(k, v)| field_value(k, v).map(|fv| (k.clone(), fv)))
            .collect()
    }

    /// An array of field names.
    pub fn names(&self, i: usize, name: &str) -> Result<Vec<&'a str>, Fault> {
        let v = self.at(i, name)?;
        let items = v
            .as_array()
            .ok_or_else(|| self.wrong(i, name, v, "an array of field names"))?;
        items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| self.wrong(i, name, item, "an array of strings"))
            })
            .collect()
    }
}

/// A struct member as a field value. Booleans become 0/1 and nil clears, as Infusionsoft's SDKs expect.
pub fn field_value(name: &str, v: &Value) -> Result<FieldValue, Fault> {
    Ok(match v {
        Value::Int(n) => FieldValue::Int(*n),
        Value::String(s) => FieldValue::Text(s.clone()),
        Value::Boolean(b) => FieldValue::Int(i64::from(*b)),
        Value::Nil => FieldValue::Text(String::new()),
        Value::DateTime(_) => FieldValue::DateTime(v.unix_time().ok_or_else(|| {
            Fault::invalid_parameter(format!("Contact.{name}: the date-time is not valid"))
        })?),
        other => {
            return Err(Fault::invalid_parameter(format!(
                "Contact.{name} must be a string or an int, got {}",
                other.type_phrase()
            )))
        }
    })
}

pub fn to_value(v: FieldValue) -> Value {
    match v {
        FieldValue::Int(n) => Value::Int(n),
        FieldValue::Text(s) => Value::String(s),
        FieldValue::DateTime(t) => Value::datetime(t),
    }
}
