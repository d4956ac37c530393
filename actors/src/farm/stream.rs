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

/// `(consumer, delivery count)` of each entry of an extended `XPENDING` reply.
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
