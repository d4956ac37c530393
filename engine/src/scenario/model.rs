//! The typed scenario the engine plans with, built from a validated document.

use std::collections::BTreeMap;

use serde_json::Value;

use super::migrate::Migration;
use super::timeline::{union, TimeRange};
use super::validate::element_type_field;

/// Seconds a cue without `domLifetime` is mounted before its first and after
/// its last displayTime (the reference package's default).
const DEFAULT_LIFETIME_MARGIN: f64 = 0.5;

/// A validated MotionText scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The v2.0 document as written (migrated when the input was v1.3), with
    /// unknown fields and `define.` references kept: what the page receives.
    pub document: Value,
    /// What migration changed, when the input was v1.3.
    pub migration: Option<Migration>,
    /// Where the document renders as the package draws it but probably not
    /// as its author meant (see `lint.rs`); pointers into the v2.0 document.
    pub warnings: Vec<super::error::Issue>,
    pub tracks: Vec<Track>,
    pub cues: Vec<Cue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackType {
    Subtitle,
    Free,
}

#[derive(Debug, Clone)]
pub struct Track {
    pub id: String,
    pub kind: TrackType,
    /// Stacking order: higher is on top.
    pub layer: f64,
}

#[derive(Debug, Clone)]
pub struct Cue {
    pub id: String,
    pub track: String,
    /// The cue's explicit lifetime; `None` means the default one.
    pub dom_lifetime: Option<TimeRange>,
    pub root: Node,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementType {
    Group,
    Text,
    Image,
    Video,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub element: ElementType,
    /// The node's own displayTime (children inherit it when they have none).
    pub display_time: Option<TimeRange>,
    pub text: Option<String>,
    pub src: Option<String>,
    pub plugins: Vec<PluginRef>,
    pub children: Vec<Node>,
}

/// A plugin named by a pluginChain entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PluginRef {
    pub name: String,
    /// The version after `@`; a bare name means 1.0.0 to the loader.
    pub version: Option<String>,
}

impl PluginRef {
    fn parse(text: &str) -> Self {
        match text.split_once('@') {
            Some((name, version)) => Self { name: name.to_owned(), version: Some(version.to_owned()) },
            None => Self { name: text.to_owned(), version: None },
        }
    }
}

impl std::fmt::Display for PluginRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.version {
            Some(version) => write!(f, "{}@{version}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

impl Scenario {
    /// Builds the typed view of a resolved document that passed validation.
    pub(crate) fn from_resolved(document: Value, resolved: &Value, migration: Option<Migration>) -> Self {
        let list = |key: &str| resolved.get(key).and_then(Value::as_array).into_iter().flatten();
        let tracks = list("tracks").map(Track::from_value).collect();
        let cues = list("cues").map(Cue::from_value).collect();
        Self { document, migration, warnings: Vec::new(), tracks, cues }
    }

    /// The version of the input: "2.0", or "1.3" when it was migrated.
    pub fn input_version(&self) -> &str {
        self.migration.as_ref().map_or("2.0", |m| m.from.as_str())
    }

    /// Times at which something may be on screen: the union, over cues, of
    /// each cue's lifetime and every displayTime in it. An interval ends at
    /// infinity when a cue has no times at all (the package then keeps it
    /// mounted for the whole video). Frames outside never touch the browser.
    pub fn alive_intervals(&self) -> Vec<TimeRange> {
        union(self.cues.iter().map(Cue::alive))
    }

    /// When the last alive interval ends; `None` when it never ends.
    pub fn end_time(&self) -> Option<f64> {
        let end = self.alive_intervals().last().map_or(0.0, |r| r.end);
        end.is_finite().then_some(end)
    }

    /// Every plugin named, with how often, in name order.
    pub fn plugins_named(&self) -> BTreeMap<PluginRef, usize> {
        let mut named = BTreeMap::new();
        for cue in &self.cues {
            cue.root.visit(&mut |node| {
                for plugin in &node.plugins {
                    *named.entry(plugin.clone()).or_default() += 1;
                }
            });
        }
        named
    }

    /// How many nodes the cues hold, roots included.
    pub fn node_count(&self) -> usize {
        let mut count = 0;
        for cue in &self.cues {
            cue.root.visit(&mut |_| count += 1);
        }
        count
    }
}

impl Track {
    fn from_value(value: &Value) -> Self {
        Self {
            id: string(value, "id").unwrap_or_default(),
            kind: if string(value, "type").as_deref() == Some("free") { TrackType::Free } else { TrackType::Subtitle },
            layer: value.get("layer").and_then(Value::as_f64).unwrap_or(0.0),
        }
    }
}

impl Cue {
    fn from_value(value: &Value) -> Self {
        Self {
            id: string(value, "id").unwrap_or_default(),
            track: string(value, "track").unwrap_or_default(),
            dom_lifetime: range(value.get("domLifetime")),
            root: value.get("root").map(Node::from_value).unwrap_or_else(Node::empty),
        }
    }

    /// The lifetime the package gives the cue: explicit, or the span of its
    /// displayTimes widened by half a second each side.
    pub fn lifetime(&self) -> TimeRange {
        if let Some(lifetime) = self.dom_lifetime {
            return lifetime;
        }
        match self.display_span() {
            Some(span) => TimeRange { start: span.start - DEFAULT_LIFETIME_MARGIN, end: span.end + DEFAULT_LIFETIME_MARGIN },
            None => TimeRange { start: f64::NEG_INFINITY, end: f64::INFINITY },
        }
    }

    /// When the cue may draw anything: its lifetime, widened to cover every
    /// displayTime inside it (a node outside its cue's lifetime draws nothing,
    /// so this only ever costs browser work, never loses a frame).
    fn alive(&self) -> TimeRange {
        let lifetime = self.lifetime();
        self.display_span().map_or(lifetime, |span| lifetime.hull(&span))
    }

    fn display_span(&self) -> Option<TimeRange> {
        let mut span: Option<TimeRange> = None;
        self.root.visit(&mut |node| {
            if let Some(time) = node.display_time {
                span = Some(span.map_or(time, |s| s.hull(&time)));
            }
        });
        span
    }
}

impl Node {
    fn empty() -> Self {
        Self { id: String::new(), element: ElementType::Group, display_time: None, text: None, src: None, plugins: Vec::new(), children: Vec::new() }
    }

    fn from_value(value: &Value) -> Self {
        let element_type = value.as_object().and_then(|node| element_type_field(node).1).and_then(Value::as_str);
        let element = match element_type {
            Some("text") => ElementType::Text,
            Some("image") => ElementType::Image,
            Some("video") => ElementType::Video,
            _ => ElementType::Group,
        };
        let plugins = value
            .get("pluginChain")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.get("name").and_then(Value::as_str))
            .map(PluginRef::parse)
            .collect();
        let children = value.get("children").and_then(Value::as_array).into_iter().flatten().map(Node::from_value).collect();
        Self {
            id: string(value, "id").unwrap_or_default(),
            element,
            display_time: range(value.get("displayTime")),
            text: string(value, "text").or_else(|| string(value, "content")),
            src: string(value, "src").or_else(|| value.get("src").and_then(|asset| string(asset, "url").or_else(|| string(asset, "src")))),
            plugins,
            children,
        }
    }

    /// Calls `f` on this node and every descendant, parents first.
    pub fn visit(&self, f: &mut impl FnMut(&Node)) {
        f(self);
        for child in &self.children {
            child.visit(f);
        }
    }
}

fn string(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn range(value: Option<&Value>) -> Option<TimeRange> {
    let items = value?.as_array()?;
    match items.as_slice() {
        [start, end] => TimeRange::new(start.as_f64()?, end.as_f64()?),
        _ => None,
    }
}
