//! The statistics of a sweep: median and median absolute deviation of a
//! point's runs, outliers by modified z-score, and the Mann-Whitney U test
//! that `compare` uses to tell a change from noise.

/// The median of `values` (the mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 { sorted[middle] } else { (sorted[middle - 1] + sorted[middle]) / 2.0 }
}

/// The median absolute deviation from the median (unscaled).
pub fn mad(values: &[f64]) -> f64 {
    let center = median(values);
    let deviations: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
    median(&deviations)
}

/// A modified z-score above this marks an outlier (Iglewicz and Hoaglin).
pub const OUTLIER_Z: f64 = 3.5;

/// The indices of `values` whose modified z-score, 0.6745 × (x − median) / MAD,
/// exceeds [`OUTLIER_Z`]. When more than half the values are equal (a MAD
/// of zero) the spread is 1.2533 × the mean absolute deviation instead;
/// when every value is equal there is no outlier.
pub fn outliers(values: &[f64]) -> Vec<usize> {
    let center = median(values);
    let spread = mad(values);
    let score: Box<dyn Fn(f64) -> f64> = if spread > 0.0 {
        Box::new(move |off| 0.6745 * off / spread)
    } else {
        let mean_deviation = values.iter().map(|v| (v - center).abs()).sum::<f64>() / values.len().max(1) as f64;
        if mean_deviation == 0.0 {
            return Vec::new();
        }
        Box::new(move |off| off / (1.253_314 * mean_deviation))
    };
    values.iter().enumerate().filter(|(_, v)| score((*v - center).abs()) > OUTLIER_Z).map(|(i, _)| i).collect()
}

/// The two-sided p-value of the Mann-Whitney U test that `a` and `b` come
/// from the same distribution: exact (by counting rank orders) when both
/// have at most 25 values and there are no ties, else the normal
/// approximation with a tie correction and a continuity correction.
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    // Ranks of the pooled values, ties sharing their mean rank.
    let mut pooled: Vec<(f64, bool)> = a.iter().map(|&v| (v, true)).chain(b.iter().map(|&v| (v, false))).collect();
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = pooled.len();
    let mut rank_sum_a = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let tied = (j - i + 1) as f64;
        tie_term += tied * tied * tied - tied;
        rank_sum_a += pooled[i..=j].iter().filter(|(_, from_a)| *from_a).count() as f64 * rank;
        i = j + 1;
    }
    let u = rank_sum_a - (n1 * (n1 + 1)) as f64 / 2.0;
    let mean = (n1 * n2) as f64 / 2.0;
    if tie_term == 0.0 && n1 <= 25 && n2 <= 25 {
        let smaller = u.min((n1 * n2) as f64 - u).round() as usize;
        return (2.0 * exact_lower_tail(n1, n2, smaller)).min(1.0);
    }
    let nf = n as f64;
    let variance = (n1 * n2) as f64 / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / variance.sqrt();
    (2.0 * (1.0 - standard_normal_cdf(z))).min(1.0)
}

/// P(U ≤ u) under the null hypothesis, for samples of `n1` and `n2` without ties:
/// the share of the C(n1+n2, n1) rank orders whose U is at most `u`.
fn exact_lower_tail(n1: usize, n2: usize, u: usize) -> f64 {
    // ways[i][j][k]: orders of i values of a and j of b with U = k.
    let max_u = n1 * n2;
    let mut ways = vec![vec![vec![0f64; max_u + 1]; n2 + 1]; n1 + 1];
    for row in ways.iter_mut() {
        row[0][0] = 1.0;
    }
    for orders in ways[0].iter_mut() {
        orders[0] = 1.0;
    }
    for i in 1..=n1 {
        for j in 1..=n2 {
            for k in 0..=max_u {
                // The largest value is from a (it exceeds all j values of b) or from b.
                let from_a = if k >= j { ways[i - 1][j][k - j] } else { 0.0 };
                ways[i][j][k] = from_a + ways[i][j - 1][k];
            }
        }
    }
    let total: f64 = ways[n1][n2].iter().sum();
    ways[n1][n2].iter().take(u + 1).sum::<f64>() / total
}

/// Φ(z), by the Abramowitz–Stegun approximation of erf (error below 1.5e-7).
fn standard_normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_mad_and_outliers() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(mad(&[1.0, 2.0, 3.0, 4.0, 100.0]), 1.0);
        assert_eq!(outliers(&[10.0, 10.2, 9.9, 10.1, 30.0]), vec![4]);
        assert!(outliers(&[5.0, 5.0, 5.0]).is_empty());
        // A MAD of zero: the one value off a run of equal ones is the outlier.
        assert_eq!(outliers(&[5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 50.0]), vec![9]);
        assert_eq!(outliers(&[5.0, 5.0, 5.1, 5.0, 5.0]), vec![2]);
        assert!(outliers(&[5.0, 5.0, 5.0, 6.0, 6.0, 6.0]).is_empty());
    }

    #[test]
    fn mann_whitney_exact_values() {
        // Fully separated samples of 5 and 5: p = 2 / C(10, 5) = 2/252.
        let p = mann_whitney_p(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]);
        assert!((p - 2.0 / 252.0).abs() < 1e-12, "{p}");
        // Interleaved samples: no evidence of a difference.
        assert!(mann_whitney_p(&[1.0, 3.0, 5.0, 7.0], &[2.0, 4.0, 6.0, 8.0]) > 0.5);
        // Identical samples (all ties): p = 1.
        assert_eq!(mann_whitney_p(&[2.0, 2.0, 2.0], &[2.0, 2.0, 2.0]), 1.0);
    }

    #[test]
    fn mann_whitney_normal_approximation_with_ties() {
        let a: Vec<f64> = (0..40).map(|i| f64::from(i / 2)).collect();
        let b: Vec<f64> = (0..40).map(|i| f64::from(i / 2) + 15.0).collect();
        assert!(mann_whitney_p(&a, &b) < 1e-4);
        assert!((standard_normal_cdf(1.96) - 0.975).abs() < 1e-4);
    }
}
