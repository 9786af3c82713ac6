//! Medians and spreads.

/// Summary of repeated measurements.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Interquartile range bounds (25th and 75th percentiles, linear interpolation).
    pub q1: f64,
    pub q3: f64,
    pub n: usize,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

pub fn summarize(values: &[f64]) -> Summary {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        return Summary { median: f64::NAN, min: f64::NAN, max: f64::NAN, q1: f64::NAN, q3: f64::NAN, n: 0 };
    }
    Summary {
        median: quantile(&v, 0.5),
        min: v[0],
        max: v[v.len() - 1],
        q1: quantile(&v, 0.25),
        q3: quantile(&v, 0.75),
        n: v.len(),
    }
}

/// A distribution-free ~95% confidence interval of the median (order statistics of the binomial
/// approximation): (low, high), or None with fewer than 6 values.
pub fn median_ci(values: &[f64]) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 6 {
        return None;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len() as f64;
    let k = ((n / 2.0) - 0.98 * n.sqrt()).floor().max(0.0) as usize;
    let hi = (v.len() - 1).saturating_sub(k);
    Some((v[k], v[hi]))
}

/// A duration in nanoseconds, with a sensible unit.
pub fn ns(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if v >= 1e6 {
        format!("{:.2} ms", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.1} µs", v / 1e3)
    } else if v >= 1e3 {
        format!("{:.2} µs", v / 1e3)
    } else if v >= 10.0 {
        format!("{v:.0} ns")
    } else {
        format!("{v:.2} ns")
    }
}

/// "min–max" of a summary in ns units.
pub fn ns_range(s: &Summary) -> String {
    format!("{} – {}", ns(s.min), ns(s.max))
}

pub fn ratio(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if v >= 100.0 {
        format!("{v:.0}x")
    } else if v >= 10.0 {
        format!("{v:.1}x")
    } else {
        format!("{v:.2}x")
    }
}

/// Thousands separators for counts.
pub fn count(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn count_f(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if v < 0.0 {
        return format!("-{}", count((-v).round() as u64));
    }
    count(v.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_quartiles() {
        let s = summarize(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((s.median, s.min, s.max, s.q1, s.q3), (3.0, 1.0, 5.0, 2.0, 4.0));
        assert_eq!(summarize(&[1.0, 2.0]).median, 1.5);
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(12), "12");
        let v: Vec<f64> = (1..=40).map(f64::from).collect();
        let (lo, hi) = median_ci(&v).unwrap();
        assert!(lo < 20.5 && hi > 20.5 && lo >= 13.0 && hi <= 28.0, "{lo} {hi}");
    }
}
