//! What the `tracing` and `log` bridges share: attributes collected from fields or key-values, owned
//! where the source only lends them for the duration of a call, then handed to the safe API as
//! [`KeyValue`]s.
//!
//! Every function of the bridges (here, in `tracing` and in `log`) is `#[inline]`, trait methods
//! included, and nothing else in the crate calls them. They are then compiled into the program that
//! uses a bridge, never into this crate, which so exports no instance of `alloc`'s generics (`Vec`,
//! `String`, the allocator). That matters at `opt-level = "s"`, where rustc shares generic instances
//! across crates: a program that drops a `String` would otherwise call this crate's instance instead
//! of inlining its own, and enabling a bridge would change the size of programs that never use it
//! (cargo unifies features across the packages of one build). Keep it so when adding code here.
//!
//! With feature `log` that holds entirely. With feature `tracing` the `tracing-core` crate itself,
//! once in the crate graph, exports a few such instances: `examples/hello` (which drops a `String`)
//! grows by 56 bytes when built together with `examples/tracing-demo`, with or without this crate's
//! code; `hello-world` and `all-signals` do not change.
#![forbid(unsafe_code)]

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::{KeyValue, Value};

/// An attribute value that may own its string.
pub(crate) enum OwnedValue<'a> {
    Str(Cow<'a, str>),
    Bool(bool),
    I64(i64),
    F64(f64),
}

impl OwnedValue<'_> {
    /// An integer as `i64` when it fits, else its decimal digits as a string (as
    /// `opentelemetry-appender-tracing` does).
    #[inline]
    pub(crate) fn int<T: TryInto<i64> + fmt::Display + Copy>(value: T) -> Self {
        match value.try_into() {
            Ok(v) => OwnedValue::I64(v),
            Err(_) => OwnedValue::Str(Cow::Owned(display(&value))),
        }
    }

    #[inline]
    pub(crate) fn as_value(&self) -> Value<'_> {
        match self {
            OwnedValue::Str(s) => Value::Str(s),
            OwnedValue::Bool(b) => Value::Bool(*b),
            OwnedValue::I64(i) => Value::I64(*i),
            OwnedValue::F64(f) => Value::F64(*f),
        }
    }
}

/// Attributes in the order they were collected.
#[derive(Default)]
pub(crate) struct Attributes<'a> {
    list: Vec<(Cow<'a, str>, OwnedValue<'a>)>,
}

impl<'a> Attributes<'a> {
    #[inline]
    pub(crate) fn push(&mut self, key: impl Into<Cow<'a, str>>, value: OwnedValue<'a>) {
        self.list.push((key.into(), value));
    }

    #[cfg(feature = "tracing")]
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Adds the source location attributes of a log record or event: `code.namespace` = the module path
    /// (when known) and `target` when the target is not the module path (the default target).
    #[inline]
    pub(crate) fn push_location(&mut self, module_path: Option<&'a str>, target: &'a str) {
        if let Some(module_path) = module_path {
            self.push("code.namespace", OwnedValue::Str(Cow::Borrowed(module_path)));
        }
        if module_path != Some(target) {
            self.push("target", OwnedValue::Str(Cow::Borrowed(target)));
        }
    }

    /// The attributes as the safe API takes them.
    #[inline]
    pub(crate) fn key_values(&self) -> Vec<KeyValue<'_>> {
        self.list.iter().map(|(k, v)| KeyValue { key: k, value: v.as_value() }).collect()
    }

    /// Calls `f` with the attributes as the safe API takes them.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&[KeyValue<'_>]) -> R) -> R {
        f(&self.key_values())
    }
}

/// `value` formatted with `Display`.
///
/// Not with `alloc::format!`: that would instantiate (and, with shared generics at `opt-level = "s"`,
/// export) the generic helpers of `alloc::fmt::format`, which a program calling `format!` itself then
/// links instead of its own inlined copies: enabling a bridge would change the size of programs that
/// do not use it.
#[inline]
pub(crate) fn display(value: &dyn fmt::Display) -> String {
    let mut s = String::new();
    let _ = fmt::Write::write_fmt(&mut s, format_args!("{value}"));
    s
}

/// `value` formatted with `Debug` (see [`display`]).
#[cfg(feature = "tracing")]
#[inline]
pub(crate) fn debug(value: &dyn fmt::Debug) -> String {
    let mut s = String::new();
    let _ = fmt::Write::write_fmt(&mut s, format_args!("{value:?}"));
    s
}
