//! Resolution of `define.` references: any string starting with `define.` is
//! a dotted path into the scenario's `define` section, replaced by the value
//! there, recursively, with cycle detection.

use serde_json::{Map, Value};

use super::error::Issue;
use super::pointer::Pointer;

const PREFIX: &str = "define.";

/// Returns `doc` with every `define.` reference replaced by its value.
/// Issues point at the string that holds the failing reference.
pub(crate) fn resolve(doc: &Value) -> Result<Value, Vec<Issue>> {
    let empty = Map::new();
    let defines = doc.get("define").and_then(Value::as_object).unwrap_or(&empty);
    let mut resolver = Resolver { defines, stack: Vec::new() };
    let mut issues = Vec::new();
    let resolved = match doc {
        Value::Object(members) => {
            // The define section is walked first, wherever it stands in the
            // file, so a broken definition is reported where it is defined.
            let root = Pointer::root();
            let section = members.get("define").map(|define| resolver.define_section(define, &root.key("define"), &mut issues));
            let mut resolved = Map::with_capacity(members.len());
            for (key, value) in members {
                let value = match (key.as_str(), &section) {
                    ("define", Some(section)) => section.clone(),
                    _ => resolver.walk(value, &root.key(key), &mut issues),
                };
                resolved.insert(key.clone(), value);
            }
            Value::Object(resolved)
        }
        other => resolver.walk(other, &Pointer::root(), &mut issues),
    };
    if issues.is_empty() {
        Ok(resolved)
    } else {
        Err(issues)
    }
}

/// Whether a string value is a reference to be resolved.
pub(crate) fn is_reference(text: &str) -> bool {
    text.starts_with(PREFIX)
}

struct Resolver<'a> {
    defines: &'a Map<String, Value>,
    /// Root keys being resolved, outermost first: a key met again is a cycle.
    stack: Vec<String>,
}

impl Resolver<'_> {
    fn walk(&mut self, value: &Value, at: &Pointer, issues: &mut Vec<Issue>) -> Value {
        match value {
            Value::String(text) if is_reference(text) => match self.reference(text) {
                Ok(resolved) => resolved,
                Err(message) => {
                    issues.push(Issue::new(at.clone(), message));
                    Value::Null
                }
            },
            Value::Array(items) => Value::Array(items.iter().enumerate().map(|(i, item)| self.walk(item, &at.index(i), issues)).collect()),
            Value::Object(members) => Value::Object(members.iter().map(|(k, v)| (k.clone(), self.walk(v, &at.key(k), issues))).collect()),
            other => other.clone(),
        }
    }

    /// The define section, each entry resolved as if it were being referenced,
    /// so a cycle reads from the entry where it starts.
    fn define_section(&mut self, section: &Value, at: &Pointer, issues: &mut Vec<Issue>) -> Value {
        let Value::Object(entries) = section else { return self.walk(section, at, issues) };
        let mut resolved = Map::with_capacity(entries.len());
        for (key, value) in entries {
            self.stack.push(key.clone());
            resolved.insert(key.clone(), self.walk(value, &at.key(key), issues));
            self.stack.pop();
        }
        Value::Object(resolved)
    }

    fn reference(&mut self, text: &str) -> Result<Value, String> {
        let mut path = text[PREFIX.len()..].split('.');
        let root = path.next().filter(|root| !root.is_empty()).ok_or_else(|| format!("\"{text}\" is not a define reference: a name must follow \"define.\""))?;
        let Some(definition) = self.defines.get(root) else {
            return Err(format!("\"{text}\" refers to define \"{root}\", which the define section does not have"));
        };
        if self.stack.iter().any(|key| key == root) {
            let mut chain: Vec<&str> = self.stack.iter().map(String::as_str).collect();
            chain.push(root);
            return Err(format!("define references form a cycle: {}", chain.join(" → ")));
        }
        self.stack.push(root.to_owned());
        let mut nested = Vec::new();
        let resolved = self.walk(definition, &Pointer::root().key("define").key(root), &mut nested);
        self.stack.pop();
        if let Some(first) = nested.into_iter().next() {
            return Err(first.message);
        }
        let mut current = &resolved;
        for part in path {
            current = current.get(part).ok_or_else(|| format!("\"{text}\": define \"{root}\" has no member \"{part}\" on that path"))?;
        }
        Ok(current.clone())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_nested_paths_recursively() {
        let doc = json!({"define": {"a": {"x": "define.b"}, "b": [1, 2]}, "use": "define.a.x", "keep": "plain"});
        let resolved = resolve(&doc).unwrap();
        assert_eq!(resolved["use"], json!([1, 2]));
        assert_eq!(resolved["define"]["a"]["x"], json!([1, 2]));
        assert_eq!(resolved["keep"], "plain");
    }

    #[test]
    fn a_cycle_is_reported_in_the_define_section_wherever_it_stands() {
        let doc = json!({"tracks": [{"defaultStyle": "define.a"}], "define": {"a": "define.b", "b": "define.a"}});
        let issues = resolve(&doc).unwrap_err();
        assert_eq!(issues[0].pointer.as_str(), "/define/a");
    }

    #[test]
    fn reports_cycles_and_unknown_keys_where_they_are_used() {
        let doc = json!({"define": {"a": "define.b", "b": "define.a"}});
        let issues = resolve(&doc).unwrap_err();
        assert_eq!(issues[0].pointer.as_str(), "/define/a");
        assert!(issues[0].message.contains("a → b → a"), "{}", issues[0].message);

        let doc = json!({"define": {}, "cues": [{"root": {"pluginChain": ["define.nope"]}}]});
        let issues = resolve(&doc).unwrap_err();
        assert_eq!(issues[0].pointer.as_str(), "/cues/0/root/pluginChain/0");
    }
}
