//! The colours of the report's charts. Public so that the headless-browser test counts the
//! very pixels the charts paint; each data colour is used for nothing but its data (table
//! text uses darker shades), so its pixel count measures what was drawn.

/// Bars of gainers, golden-cross markers.
pub const GAIN: &str = "#16a34a";
/// Bars of losers, death-cross markers.
pub const LOSS: &str = "#dc2626";
/// The price line.
pub const PRICE: &str = "#1d4ed8";
/// The 50-day moving average line.
pub const MA50: &str = "#f59e0b";
/// The 200-day moving average line.
pub const MA200: &str = "#9333ea";
/// Volatility bars.
pub const VOLATILITY: &str = "#0891b2";
/// Drawdown bars.
pub const DRAWDOWN: &str = "#be123c";
/// Completeness bars (data quality).
pub const COMPLETENESS: &str = "#4d7c0f";

/// Text.
pub(crate) const INK: &str = "#0f172a";
/// Grid lines.
pub(crate) const GRID: &str = "#e2e8f0";
/// Axis and zero lines.
pub(crate) const AXIS: &str = "#94a3b8";

/// The RGB bytes of a `#rrggbb` colour, for counting its pixels in a screenshot.
pub fn rgb(hex: &str) -> [u8; 3] {
    let h = hex.trim_start_matches('#');
    let byte =
        |k: usize| u8::from_str_radix(&h[k..k + 2], 16).expect("palette colours are #rrggbb");
    [byte(0), byte(2), byte(4)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_colours_are_distinct_and_parse() {
        let all = [
            GAIN,
            LOSS,
            PRICE,
            MA50,
            MA200,
            VOLATILITY,
            DRAWDOWN,
            COMPLETENESS,
        ];
        for (i, a) in all.iter().enumerate() {
            assert_eq!(a.len(), 7);
            for b in &all[i + 1..] {
                assert_ne!(rgb(a), rgb(b));
            }
        }
        assert_eq!(rgb("#16a34a"), [0x16, 0xa3, 0x4a]);
    }
}
