//! Reading the replies of the stream commands (`XREADGROUP`, `XAUTOCLAIM`,
//! `XPENDING`) out of Redis values, without trusting their shape.

use redis::Value;

/// One stream entry: its id and fields.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub fields: Vec<(String, String)>,
}

impl Entry {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// Text of a bulk or simple string.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(text) => Some(text.clone()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An integer (Redis answers some as strings).
pub fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        other => text(other)?.parse().ok(),
    }
}

fn items(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) | Value::Set(items) => items,
        _ => &[],
    }
}

/// Entries of an entry list `[[id, [k, v, …]], …]`; an entry deleted
/// meanwhile (`[id, nil]`) has no fields.
pub fn entries(value: &Value) -> Vec<Entry> {
    items(value)
        .iter()
        .filter_map(|entry| {
            let [id, fields] = items(entry) else { return None };
            let fields = items(fields).chunks_exact(2).filter_map(|pair| Some((text(&pair[0])?, text(&pair[1])?))).collect();
            Some(Entry { id: text(id)?, fields })
        })
        .collect()
}

/// The entries of an `XREADGROUP` reply for one stream (nil on timeout).
pub fn read_group_entries(value: &Value) -> Vec<Entry> {
    match value {
        Value::Map(streams) => streams.iter().flat_map(|(_, list)| entries(list)).collect(),
        other => items(other).iter().flat_map(|stream| items(stream).get(1).map(entries).unwrap_or_default()).collect(),
    }
}

/// The claimed entries of an `XAUTOCLAIM` reply `[next, entries, deleted]`.
pub fn autoclaimed(value: &Value) -> Vec<Entry> {
    items(value).get(1).map(entries).unwrap_or_default()
}

/// `(entry id, consumer, idle ms, delivery count)` of each row of an extended `XPENDING` reply.
pub fn pending_deliveries(value: &Value) -> Vec<(String, String, u64, u64)> {
    items(value)
        .iter()
        .filter_map(|row| {
            let [id, consumer, idle, count] = items(row) else { return None };
            Some((text(id)?, text(consumer)?, int(idle)?.max(0) as u64, int(count)?.max(0) as u64))
        })
        .collect()
}

/// The pairs of a flat `[k, v, k, v]` array or a map, as text.
pub fn pairs(value: &Value) -> Vec<(String, Value)> {
    match value {
        Value::Map(pairs) => pairs.iter().filter_map(|(k, v)| Some((text(k)?, v.clone()))).collect(),
        other => items(other).chunks_exact(2).filter_map(|pair| Some((text(&pair[0])?, pair[1].clone()))).collect(),
    }
}

/// The list items of an array reply.
pub fn list(value: &Value) -> &[Value] {
    items(value)
}

#[cfg(test)]
mod tests {
    use redis::Value;

    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    fn entry(id: &str, fields: &[(&str, &str)]) -> Value {
        Value::Array(vec![bulk(id), Value::Array(fields.iter().flat_map(|(k, v)| [bulk(k), bulk(v)]).collect())])
    }

    #[test]
    fn read_group_replies_give_their_entries_and_a_timeout_none() {
        let reply = Value::Array(vec![Value::Array(vec![bulk("tasks"), Value::Array(vec![entry("1-0", &[("job", "a"), ("segment", "3")])])])]);
        let entries = read_group_entries(&reply);
        assert_eq!(entries.len(), 1);
        assert_eq!((entries[0].id.as_str(), entries[0].field("segment")), ("1-0", Some("3")));
        assert!(read_group_entries(&Value::Nil).is_empty());
        let resp3 = Value::Map(vec![(bulk("tasks"), Value::Array(vec![entry("2-0", &[("job", "b")])]))]);
        assert_eq!(read_group_entries(&resp3)[0].field("job"), Some("b"));
    }

    #[test]
    fn autoclaim_replies_skip_deleted_entries_and_pending_rows_parse() {
        let reply = Value::Array(vec![bulk("0-0"), Value::Array(vec![entry("5-0", &[("job", "c")])]), Value::Array(vec![bulk("4-0")])]);
        let claimed = autoclaimed(&reply);
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].id, "5-0");
        let rows = Value::Array(vec![Value::Array(vec![bulk("5-0"), bulk("worker-1"), Value::Int(1200), Value::Int(2)])]);
        assert_eq!(pending_deliveries(&rows), vec![("5-0".to_owned(), "worker-1".to_owned(), 1200, 2)]);
        assert!(pending_deliveries(&Value::Array(vec![Value::Int(3)])).is_empty(), "a malformed row is skipped, not a panic");
    }
}
