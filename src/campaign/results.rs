//! Results: what each variant's messages became (sent, delivered, read, clicked,
//! replied within the window, opted out, failed), and whether the difference between two
//! variants is more than noise (a two-proportion z-test at 95%).

pub use crate::store::VariantResults;
use serde::Serialize;

/// What each variant of campaign `name` achieved, compared.
pub fn of(store: &crate::store::Store, name: &str) -> crate::store::Result<CampaignResults> {
    let (variants, window) = store.variant_counts(name)?;
    Ok(CampaignResults::new(name.into(), variants, window / 3_600_000))
}

impl VariantResults {
    pub fn add(&mut self, other: &VariantResults) {
        self.recipients += other.recipients;
        self.sent += other.sent;
        self.delivered += other.delivered;
        self.read += other.read;
        self.clicked += other.clicked;
        self.replied += other.replied;
        self.opted_out += other.opted_out;
        self.failed += other.failed;
    }

    /// The metrics compared between variants, each as (name, count); the base is `sent`.
    pub fn metrics(&self) -> [(&'static str, i64); 5] {
        [
            ("read", self.read),
            ("clicked", self.clicked),
            ("replied", self.replied),
            ("opted_out", self.opted_out),
            ("failed", self.failed),
        ]
    }
}

/// One metric compared between variant A and another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub metric: &'static str,
    pub a: String,
    pub b: String,
    /// Rates of the metric among messages sent, in percent.
    pub rate_a: f64,
    pub rate_b: f64,
    /// `rate_b - rate_a`, in percentage points.
    pub difference: f64,
    pub z: f64,
    /// |z| > 1.96: unlikely (under 5%) to be chance.
    pub significant: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignResults {
    pub campaign: String,
    pub total: VariantResults,
    pub variants: Vec<VariantResults>,
    pub comparisons: Vec<Comparison>,
    pub reply_window_hours: i64,
}

impl CampaignResults {
    pub fn new(campaign: String, variants: Vec<VariantResults>, reply_window_hours: i64) -> CampaignResults {
        let mut total = VariantResults { variant: "all".into(), ..Default::default() };
        for v in &variants {
            total.add(v);
        }
        let mut comparisons = Vec::new();
        if let Some((a, rest)) = variants.split_first() {
            for b in rest {
                for ((metric, xa), (_, xb)) in a.metrics().into_iter().zip(b.metrics()) {
                    comparisons.push(compare(metric, a, xa, b, xb));
                }
            }
        }
        CampaignResults { campaign, total, variants, comparisons, reply_window_hours }
    }
}

fn compare(metric: &'static str, a: &VariantResults, xa: i64, b: &VariantResults, xb: i64) -> Comparison {
    // Failures are counted among all recipients; the rest among messages that went out.
    let (na, nb) = if metric == "failed" { (a.recipients, b.recipients) } else { (a.sent, b.sent) };
    let rate = |x: i64, n: i64| if n > 0 { x as f64 / n as f64 } else { 0.0 };
    let (pa, pb) = (rate(xa, na), rate(xb, nb));
    let pooled = rate(xa + xb, na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na.max(1) as f64 + 1.0 / nb.max(1) as f64)).sqrt();
    let z = if se > 0.0 && na > 0 && nb > 0 { (pb - pa) / se } else { 0.0 };
    Comparison {
        metric,
        a: a.variant.clone(),
        b: b.variant.clone(),
        rate_a: 100.0 * pa,
        rate_b: 100.0 * pb,
        difference: 100.0 * (pb - pa),
        z,
        significant: z.abs() > 1.96,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &str, sent: i64, replied: i64) -> VariantResults {
        VariantResults { variant: name.into(), recipients: sent, sent, replied, ..Default::default() }
    }

    #[test]
    fn a_large_difference_is_significant_and_a_small_one_is_noise() {
        let r = CampaignResults::new("c".into(), vec![v("A", 1000, 100), v("B", 1000, 150)], 48);
        let replied = r.comparisons.iter().find(|c| c.metric == "replied").unwrap();
        assert!((replied.difference - 5.0).abs() < 1e-9);
        assert!(replied.significant, "{replied:?}");
        assert!(replied.z > 3.0 && replied.z < 3.5, "{}", replied.z);
        let r = CampaignResults::new("c".into(), vec![v("A", 50, 5), v("B", 50, 7)], 48);
        assert!(!r.comparisons.iter().any(|c| c.significant));
        assert_eq!(r.total.sent, 100);
        assert_eq!(r.total.replied, 12);
        let one = CampaignResults::new("c".into(), vec![v("A", 10, 1)], 48);
        assert!(one.comparisons.is_empty());
    }
}
