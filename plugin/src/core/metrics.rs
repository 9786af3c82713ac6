//! Per-instance metric state: the instruments a guest created and the attribute sets it bound to
//! them, addressed by handle.
//!
//! Every measurement is validated here (type, sign, finiteness) before it reaches the SDK, so the
//! SDK never sees a value the OpenTelemetry API forbids.

use super::error::{HostError, HostResult};
use super::handles::{Handle, HandleError, HandleTable};
use opentelemetry::metrics::{
    BoundCounter, BoundGauge, BoundHistogram, BoundUpDownCounter, Counter, Gauge, Histogram, Meter,
    UpDownCounter,
};
use opentelemetry::KeyValue;
use std::collections::HashMap;
use wasmedge_otel_abi::limits::{MAX_BOUND_INSTRUMENTS, MAX_HISTOGRAM_BOUNDARIES, MAX_INSTRUMENTS};
use wasmedge_otel_abi::{InstrumentKind, ValueType};

/// Checks an instrument name and unit against the OpenTelemetry API's rules (the SDK would
/// otherwise hand back a silent no-op instrument): a name is 1-255 characters, an ASCII letter
/// then letters, digits, `_`, `.`, `-` or `/`; a unit is at most 63 ASCII characters.
pub fn validate_name_and_unit(name: &str, unit: &str) -> HostResult<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'));
    if !first_ok || !rest_ok || name.len() > 255 {
        return Err(HostError::InvalidArgument("instrument name breaks the OpenTelemetry naming rules"));
    }
    if unit.len() > 63 || !unit.is_ascii() {
        return Err(HostError::InvalidArgument("instrument unit is longer than 63 or not ASCII"));
    }
    Ok(())
}

/// What identifies an instrument: creating an equal one again returns the same handle. Names
/// compare case-insensitively, as the OpenTelemetry API specifies (the first spelling is kept).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InstrumentSpec {
    /// Kind of instrument.
    pub kind: InstrumentKind,
    /// Type of the values it records.
    pub value_type: ValueType,
    /// Instrument name.
    pub name: String,
    /// UCUM unit, possibly empty.
    pub unit: String,
    /// Description, possibly empty.
    pub description: String,
    /// Explicit histogram boundaries, as bit patterns so the spec can be hashed.
    pub boundaries: Vec<u64>,
}

/// An SDK instrument of one of the supported kind and value type pairs.
enum Instrument {
    CounterU64(Counter<u64>),
    CounterF64(Counter<f64>),
    UpDownI64(UpDownCounter<i64>),
    UpDownF64(UpDownCounter<f64>),
    HistogramU64(Histogram<u64>),
    HistogramF64(Histogram<f64>),
    GaugeI64(Gauge<i64>),
    GaugeF64(Gauge<f64>),
}

/// A measurement as the guest passed it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Measurement {
    /// From `*_record_i64`.
    I64(i64),
    /// From `*_record_f64`.
    F64(f64),
}

impl Instrument {
    fn build(meter: &Meter, spec: &InstrumentSpec) -> Instrument {
        let name = spec.name.clone();
        let bounds = || spec.boundaries.iter().map(|b| f64::from_bits(*b)).collect::<Vec<_>>();
        macro_rules! build {
            ($builder:expr) => {
                $builder.with_unit(spec.unit.clone()).with_description(spec.description.clone())
            };
        }
        use InstrumentKind as K;
        use ValueType as V;
        match (spec.kind, spec.value_type) {
            (K::Counter, V::I64) => Instrument::CounterU64(build!(meter.u64_counter(name)).build()),
            (K::Counter, V::F64) => Instrument::CounterF64(build!(meter.f64_counter(name)).build()),
            (K::UpDownCounter, V::I64) => {
                Instrument::UpDownI64(build!(meter.i64_up_down_counter(name)).build())
            }
            (K::UpDownCounter, V::F64) => {
                Instrument::UpDownF64(build!(meter.f64_up_down_counter(name)).build())
            }
            (K::Histogram, V::I64) => {
                let b = build!(meter.u64_histogram(name));
                let b = if spec.boundaries.is_empty() { b } else { b.with_boundaries(bounds()) };
                Instrument::HistogramU64(b.build())
            }
            (K::Histogram, V::F64) => {
                let b = build!(meter.f64_histogram(name));
                let b = if spec.boundaries.is_empty() { b } else { b.with_boundaries(bounds()) };
                Instrument::HistogramF64(b.build())
            }
            (K::Gauge, V::I64) => Instrument::GaugeI64(build!(meter.i64_gauge(name)).build()),
            (K::Gauge, V::F64) => Instrument::GaugeF64(build!(meter.f64_gauge(name)).build()),
        }
    }

    /// Records `m` after checking it is a value this instrument may take.
    fn record(&self, m: Measurement, attributes: &[KeyValue]) -> HostResult<()> {
        match (self, m) {
            (Instrument::CounterU64(c), Measurement::I64(v)) => c.add(non_negative(v)?, attributes),
            (Instrument::CounterF64(c), Measurement::F64(v)) => c.add(finite_non_negative(v)?, attributes),
            (Instrument::UpDownI64(c), Measurement::I64(v)) => c.add(v, attributes),
            (Instrument::UpDownF64(c), Measurement::F64(v)) => c.add(finite(v)?, attributes),
            (Instrument::HistogramU64(h), Measurement::I64(v)) => h.record(non_negative(v)?, attributes),
            (Instrument::HistogramF64(h), Measurement::F64(v)) => {
                h.record(finite_non_negative(v)?, attributes)
            }
            (Instrument::GaugeI64(g), Measurement::I64(v)) => g.record(v, attributes),
            (Instrument::GaugeF64(g), Measurement::F64(v)) => g.record(finite(v)?, attributes),
            _ => return Err(TYPE_MISMATCH),
        }
        Ok(())
    }

    /// The SDK's bound form of this instrument for one attribute set.
    fn bind(&self, attributes: &[KeyValue]) -> BoundInstrument {
        match self {
            Instrument::CounterU64(c) => BoundInstrument::CounterU64(c.bind(attributes)),
            Instrument::CounterF64(c) => BoundInstrument::CounterF64(c.bind(attributes)),
            Instrument::UpDownI64(c) => BoundInstrument::UpDownI64(c.bind(attributes)),
            Instrument::UpDownF64(c) => BoundInstrument::UpDownF64(c.bind(attributes)),
            Instrument::HistogramU64(h) => BoundInstrument::HistogramU64(h.bind(attributes)),
            Instrument::HistogramF64(h) => BoundInstrument::HistogramF64(h.bind(attributes)),
            Instrument::GaugeI64(g) => BoundInstrument::GaugeI64(g.bind(attributes)),
            Instrument::GaugeF64(g) => BoundInstrument::GaugeF64(g.bind(attributes)),
        }
    }
}

const TYPE_MISMATCH: HostError = HostError::InvalidArgument("value type does not match the instrument");

fn non_negative(v: i64) -> HostResult<u64> {
    u64::try_from(v).map_err(|_| HostError::InvalidArgument("negative value on a monotonic instrument"))
}

fn finite(v: f64) -> HostResult<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(HostError::InvalidArgument("NaN or infinite value"))
    }
}

fn finite_non_negative(v: f64) -> HostResult<f64> {
    match finite(v)? {
        v if v < 0.0 => Err(HostError::InvalidArgument("negative value on a monotonic instrument")),
        v => Ok(v),
    }
}

/// An instrument bound to a fixed attribute set: the SDK resolved the set once, at bind time, so
/// a record neither hashes nor copies attributes.
enum BoundInstrument {
    CounterU64(BoundCounter<u64>),
    CounterF64(BoundCounter<f64>),
    UpDownI64(BoundUpDownCounter<i64>),
    UpDownF64(BoundUpDownCounter<f64>),
    HistogramU64(BoundHistogram<u64>),
    HistogramF64(BoundHistogram<f64>),
    GaugeI64(BoundGauge<i64>),
    GaugeF64(BoundGauge<f64>),
}

impl BoundInstrument {
    /// Records `m` with the same checks as [`Instrument::record`].
    fn record(&self, m: Measurement) -> HostResult<()> {
        match (self, m) {
            (BoundInstrument::CounterU64(c), Measurement::I64(v)) => c.add(non_negative(v)?),
            (BoundInstrument::CounterF64(c), Measurement::F64(v)) => c.add(finite_non_negative(v)?),
            (BoundInstrument::UpDownI64(c), Measurement::I64(v)) => c.add(v),
            (BoundInstrument::UpDownF64(c), Measurement::F64(v)) => c.add(finite(v)?),
            (BoundInstrument::HistogramU64(h), Measurement::I64(v)) => h.record(non_negative(v)?),
            (BoundInstrument::HistogramF64(h), Measurement::F64(v)) => h.record(finite_non_negative(v)?),
            (BoundInstrument::GaugeI64(g), Measurement::I64(v)) => g.record(v),
            (BoundInstrument::GaugeF64(g), Measurement::F64(v)) => g.record(finite(v)?),
            _ => return Err(TYPE_MISMATCH),
        }
        Ok(())
    }
}

/// An instrument bound to an attribute set by `metric_bind`. The SDK's bound instrument creates
/// its data point when it is made, which would then be exported (as 0, or a gauge's false 0) even
/// if nothing is ever recorded; so it is made on the first accepted measurement.
enum Binding {
    Pending { instrument: Handle, attributes: Vec<KeyValue> },
    Bound(BoundInstrument),
}

/// The instruments of one module instance.
pub struct MetricTable {
    instruments: HandleTable<Instrument>,
    by_spec: HashMap<InstrumentSpec, Handle>,
    bound: HandleTable<Binding>,
    /// Bound handles by instrument and encoded attribute buffer: binding the same pair again
    /// returns the same handle instead of using up the bound-instrument limit.
    bound_by_key: HashMap<(Handle, Vec<u8>), Handle>,
}

fn lookup(err: HandleError, handle: Handle, full: &'static str) -> HostError {
    match err {
        HandleError::NotPresent => HostError::InvalidHandle(handle),
        HandleError::Full => HostError::LimitExceeded(full),
    }
}

/// Decodes and checks explicit histogram boundaries: little-endian f64s, finite, strictly increasing.
pub fn decode_boundaries(kind: InstrumentKind, bytes: &[u8]) -> HostResult<Vec<u64>> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    if kind != InstrumentKind::Histogram {
        return Err(HostError::InvalidArgument("only histograms take boundaries"));
    }
    if bytes.len() % 8 != 0 {
        return Err(HostError::Malformed("boundaries are not a whole number of f64 values"));
    }
    if bytes.len() / 8 > MAX_HISTOGRAM_BOUNDARIES {
        return Err(HostError::LimitExceeded("too many histogram boundaries"));
    }
    let values: Vec<f64> =
        bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8-byte chunk"))).collect();
    if values.iter().any(|v| !v.is_finite()) || values.windows(2).any(|w| w[0] >= w[1]) {
        return Err(HostError::InvalidArgument(
            "histogram boundaries must be finite and strictly increasing",
        ));
    }
    Ok(values.into_iter().map(f64::to_bits).collect())
}

impl Default for MetricTable {
    fn default() -> Self {
        MetricTable {
            instruments: HandleTable::with_capacity(MAX_INSTRUMENTS),
            by_spec: HashMap::new(),
            bound: HandleTable::with_capacity(MAX_BOUND_INSTRUMENTS),
            bound_by_key: HashMap::new(),
        }
    }
}

impl MetricTable {
    /// Returns the handle of the instrument `spec` describes, creating it with `meter` if needed.
    pub fn create(&mut self, meter: &Meter, spec: InstrumentSpec) -> HostResult<Handle> {
        let key = InstrumentSpec { name: spec.name.to_ascii_lowercase(), ..spec.clone() };
        if let Some(handle) = self.by_spec.get(&key) {
            return Ok(*handle);
        }
        if self.instruments.is_full() {
            return Err(HostError::LimitExceeded("too many instruments in this instance"));
        }
        let instrument = Instrument::build(meter, &spec);
        let handle = self.instruments.insert(instrument).map_err(|e| lookup(e, 0, "too many instruments"))?;
        self.by_spec.insert(key, handle);
        Ok(handle)
    }

    /// Records a measurement with attributes.
    pub fn record(&self, instrument: Handle, m: Measurement, attributes: &[KeyValue]) -> HostResult<()> {
        let i = self.instruments.get(instrument).map_err(|e| lookup(e, instrument, ""))?;
        i.record(m, attributes)
    }

    /// Binds an instrument to an attribute set, given both decoded and as the guest encoded it.
    pub fn bind(
        &mut self,
        instrument: Handle,
        encoded: &[u8],
        attributes: Vec<KeyValue>,
    ) -> HostResult<Handle> {
        self.instruments.get(instrument).map_err(|e| lookup(e, instrument, ""))?;
        let key = (instrument, encoded.to_vec());
        if let Some(bound) = self.bound_by_key.get(&key) {
            return Ok(*bound);
        }
        let bound = self
            .bound
            .insert(Binding::Pending { instrument, attributes })
            .map_err(|e| lookup(e, 0, "too many bound instruments in this instance"))?;
        self.bound_by_key.insert(key, bound);
        Ok(bound)
    }

    /// Records a measurement on a bound instrument. The first accepted one goes through the
    /// instrument with the binding's attributes, and only then is the SDK's bound instrument made.
    pub fn record_bound(&mut self, bound: Handle, m: Measurement) -> HostResult<()> {
        let binding = self.bound.get_mut(bound).map_err(|e| lookup(e, bound, ""))?;
        match binding {
            Binding::Bound(b) => b.record(m),
            Binding::Pending { instrument, attributes } => {
                let target = self.instruments.get(*instrument).map_err(|e| lookup(e, *instrument, ""))?;
                target.record(m, attributes)?;
                *binding = Binding::Bound(target.bind(attributes));
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_units_follow_the_api_rules() {
        for good in ["a", "http.server.request.duration", "A_b-c/d.e", &"x".repeat(255)] {
            assert!(validate_name_and_unit(good, "ms").is_ok(), "{good}");
        }
        for bad in ["", "1abc", "_x", "has space", "é", &"x".repeat(256)] {
            assert!(matches!(validate_name_and_unit(bad, ""), Err(HostError::InvalidArgument(_))), "{bad:?}");
        }
        assert!(validate_name_and_unit("a", &"u".repeat(64)).is_err());
        assert!(validate_name_and_unit("a", "µs").is_err());
    }

    #[test]
    fn boundaries_must_be_finite_increasing_histogram_f64s() {
        let enc = |v: &[f64]| v.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<_>>();
        assert_eq!(decode_boundaries(InstrumentKind::Histogram, &enc(&[1.0, 5.0])).unwrap().len(), 2);
        assert!(decode_boundaries(InstrumentKind::Histogram, &[]).unwrap().is_empty());
        for bad in [&[5.0, 1.0][..], &[1.0, 1.0], &[f64::NAN], &[1.0, f64::INFINITY]] {
            assert!(matches!(
                decode_boundaries(InstrumentKind::Histogram, &enc(bad)),
                Err(HostError::InvalidArgument(_))
            ));
        }
        assert!(matches!(
            decode_boundaries(InstrumentKind::Histogram, &[0; 7]),
            Err(HostError::Malformed(_))
        ));
        assert!(matches!(
            decode_boundaries(InstrumentKind::Counter, &enc(&[1.0])),
            Err(HostError::InvalidArgument(_))
        ));
        let many: Vec<f64> = (0..=MAX_HISTOGRAM_BOUNDARIES).map(|i| i as f64).collect();
        assert!(matches!(
            decode_boundaries(InstrumentKind::Histogram, &enc(&many)),
            Err(HostError::LimitExceeded(_))
        ));
    }
}
