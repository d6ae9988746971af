//! The one progress bar of the command line (imports, job runs): drawn on a terminal,
//! hidden otherwise.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `len` records, drawn when `visible` (stderr is a terminal).
pub fn records_bar(len: u64, visible: bool) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if visible {
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} records {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}
